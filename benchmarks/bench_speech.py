"""Speech benchmark: does the robot understand what people say, across voices, accents and noise?

    python -m benchmarks.bench_speech [--seeds 12000-12999] [--commands 20] [--answers 12]
        [--corrections 8] [--lexicon 6] [--noise-only 20] [--threads 1] [--show-errors]
        [--model tiny.en] [--adapter none default] [--systems baseline scene] [--cache DIR] [--json OUT]

The test set (`perception.speech.testset`) speaks the project's phrases (`agent.speech_phrases`:
suite commands, answers to "which one?" questions, corrections, lexicon phrases) in the espeak-ng
accents and piper voices of `VOICES`, in every condition of `CONDITIONS` (clean; white 30 dB;
white, babble and room + reverb at 20 and 10 dB), plus noise-only clips. Each clip is streamed in
30 ms blocks through the microphone's end-pointer (`UtteranceDetector`); the utterance it cuts is
recognised by each system side by side:
- baseline: today's recognizer, `WhisperTranscriber.transcribe` (greedy, fixed domain prompt);
- scene: `transcribe_nbest` with the prompt biased to the scene's objects (to the correction
  forms for corrections), read by `CommandReader` (greedy when it fits the scene and its meaning
  words are sure, else beam-5 n-best rescoring, sound-alike repairs, expected answer type, the
  agent's correction reader, noise gate) and its "did you say ...?" checks
  (`perception.speech.confirmation`);
- scene-noask: the same reader with the n-best checks off (`ConfirmConfig.off()`: it asks only on
  a doubtful repair or a low confidence), to measure what those checks do.
Reported per system x condition and system x voice: WER; command / answer / correction /
lexicon accuracy (the project's own parser and answer reader: see agent.speech_phrases.understood);
how often it asks "did you say ...?", how often it heard nothing (it asks again: "missed") and
how often it acts on a wrong reading without asking; noise-only clips that gave text; recognition time (median / p90).
Bars: at 20 dB WER <= 5 % and command accuracy >= 97 %; no text from noise-only clips.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SYSTEMS = ("baseline", "scene-noask", "scene")


@dataclass
class Cell:
    """Results of one (system, group) cell."""

    refs: list[str] = field(default_factory=list)
    hyps: list[str] = field(default_factory=list)
    ok: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    asked: int = 0
    missed: int = 0
    wrong_acted: int = 0
    seconds: list[float] = field(default_factory=list)
    noise_text: int = 0
    noise_clips: int = 0


def streamed_cut(clip, vad):
    """Feed `clip` in 30 ms blocks to the VAD end-pointer; (utterance or None, s from speech end to cut)."""
    from perception.speech.vad import UtteranceDetector, speech_segments

    detector = UtteranceDetector(clip.rate, vad)
    block = int(clip.rate * vad.frame_s)
    segments = speech_segments(clip, vad)
    speech_end = segments[-1].end_s if segments else clip.duration_s
    for start in range(0, len(clip.samples), block):
        cut = detector.feed(clip.samples[start : start + block])
        if cut is not None:
            return cut, (start + block) / clip.rate - speech_end
    return None, 0.0


def _pct(values: list[bool]) -> str:
    return f"{100 * np.mean(values):5.1f}" if values else "    -"


def print_table(title: str, cells: dict[tuple[str, str], Cell]) -> None:
    from perception.speech.wer import word_error_rate

    print(f"\n{title}")
    header = (f"{'system':<14} {'group':<24} {'n':>4} {'WER%':>6} {'cmd%':>6} {'ans%':>6} {'cor%':>6} {'lex%':>6} "
              f"{'asked%':>7} {'missed%':>7} {'wrong-acted%':>12} {'noise->text':>11} {'s med/p90':>10}")
    print(header)
    print("-" * len(header))
    for (system, group), c in cells.items():
        n = len(c.refs)
        wer = 100 * word_error_rate(c.refs, c.hyps) if n else float("nan")
        noise = f"{c.noise_text}/{c.noise_clips}" if c.noise_clips else "-"
        secs = np.array(c.seconds) if c.seconds else np.array([np.nan])
        print(f"{system:<14} {group:<24} {n:4d} {wer:6.1f} {_pct(c.ok['command'])} {_pct(c.ok['answer'])} "
              f"{_pct(c.ok['correction'])} {_pct(c.ok['lexicon'])} {100 * c.asked / max(n, 1):7.1f} "
              f"{100 * c.missed / max(n, 1):7.1f} "
              f"{100 * c.wrong_acted / max(n, 1):12.1f} {noise:>11} "
              f"{np.median(secs):4.2f}/{np.percentile(secs, 90):4.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="12000-12999", help="suite seed block the phrases are drawn from")
    parser.add_argument("--commands", type=int, default=20)
    parser.add_argument("--answers", type=int, default=12)
    parser.add_argument("--corrections", type=int, default=8)
    parser.add_argument("--lexicon", type=int, default=6)
    parser.add_argument("--noise-only", type=int, default=20)
    parser.add_argument("--conditions", nargs="+", help="condition names to keep (default: all)")
    parser.add_argument("--voices", default="all", choices=("all", "dev", "heldout"),
                        help="voice set (perception.speech.testset.VOICE_SETS): dev = tuned on, "
                             "heldout = only measured")
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--model", nargs="+", default=["tiny.en"],
                        help="whisper model spec(s) (see perception.speech.models); several: compared clip by clip")
    parser.add_argument("--adapter", nargs="+", default=["none"],
                        help="decoder LoRA folder(s) merged into each model (`none`: as shipped; "
                             "`default`: the committed one); several: compared clip by clip")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--cache", type=Path, default=None, help="test-set folder (default: <cache>/speech-testset)")
    parser.add_argument("--show-errors", action="store_true", help="print every misunderstood clip")
    parser.add_argument("--json", type=Path, help="write every clip's result here (JSON lines, as they come)")
    parser.add_argument("--report", type=Path, help="only print the tables of an earlier run's --json file")
    args = parser.parse_args(argv)
    if args.report:
        report([json.loads(line) for line in args.report.read_text().splitlines() if line.strip()])
        return 0

    import torch

    from agent.suites import parse_seeds
    from agent.speech_phrases import project_phrases, understood
    from perception.speech.audio import read_wav
    from perception.speech.models import EMBEDDED_ADAPTER, default_cache_dir
    from perception.speech.stt import SttConfig, WhisperTranscriber
    from agent.interjection import correction_meaning
    from perception.speech.confirmation import ConfirmConfig
    from perception.speech.testset import CONDITIONS, VOICE_SETS, TestSetSpec, build_testset
    from perception.speech.understanding import CommandReader, ReaderConfig, SceneVocabulary, scene_prompt
    from perception.speech.vad import VadConfig
    from perception.speech.wer import normalize_text

    torch.set_num_threads(args.threads)
    seeds = parse_seeds(args.seeds)
    phrases, contexts = project_phrases(range(seeds[0], seeds[-1] + 1), args.commands, args.answers,
                                        args.corrections, args.lexicon)
    conditions = tuple(c for c in CONDITIONS if not args.conditions or c.name in args.conditions)
    t = time.perf_counter()
    clips = build_testset(TestSetSpec(phrases, VOICE_SETS[args.voices], conditions, args.noise_only, seeds[0]),
                          args.cache or default_cache_dir() / "speech-testset")
    print(f"test set: {len(clips)} clips ({len(phrases)} phrases x {len(conditions)} conditions + "
          f"{args.noise_only} noise-only) ready in {time.perf_counter() - t:.1f} s")
    vad = VadConfig()
    stts = {}
    for spec in args.model:
        for adapter in args.adapter:
            folder = {"none": None, "default": EMBEDDED_ADAPTER}.get(adapter, adapter)
            name = spec if folder is None else f"{spec}+{Path(folder).name}"
            stts[name] = WhisperTranscriber(SttConfig(model=spec, adapter=folder, vad=vad))
            stts[name].model  # noqa: B018 (load before timing)
    runs = [(system, spec) for spec in stts for system in args.systems]
    readers = {"scene": CommandReader(correction_meaning=correction_meaning),
               "scene-noask": CommandReader(ReaderConfig(confirm=ConfirmConfig.off()),
                                            correction_meaning=correction_meaning)}
    # the bars' conditions first, so an interrupted run still has them (--report reads the JSONL)
    order = {"20 dB": 0, "noise": 1, "10 dB": 2}
    clips = sorted(clips, key=lambda c: next((v for k, v in order.items() if k in c.condition), 3))
    out = open(args.json, "w") if args.json else None
    records = []
    for clip_info in clips:
        clip = read_wav(clip_info.path)
        cut, _ = streamed_cut(clip, vad)
        # the end-pointer did not close before the clip ended (steady babble keeps it open): a
        # microphone would go on until a pause or max_utterance_s; the whole clip stands for that
        utterance = clip if cut is None else cut
        ctx = contexts.get(clip_info.key)
        for system_name, spec in runs:
            stt = stts[spec]
            system = system_name if len(stts) == 1 else f"{system_name}/{spec}"
            start = time.perf_counter()
            asked, extra = False, {}
            if system_name == "baseline":
                text = stt.transcribe(utterance).text
            else:
                expected = ctx.expected if ctx else "command"
                vocabulary = ctx.vocabulary if ctx else SceneVocabulary()
                nbest = stt.transcribe_nbest(utterance, prompt=scene_prompt(vocabulary, expected=expected))
                reading = readers[system_name].read(nbest, vocabulary, expected)
                text, asked = reading.text, bool(reading.confirm)
                extra = {"doubt": reading.doubt, "rival": reading.rival, "gap": reading.rival_gap,
                         "no_speech": round(nbest.no_speech_prob, 3),
                         "confidence": reading.confidence, "beam": reading.used_beam,
                         "whisper": [(h.text, round(h.avg_logprob, 3)) for h in nbest.hypotheses]}
            seconds = time.perf_counter() - start
            ok = None if clip_info.kind == "noise" else understood(clip_info.kind, clip_info.text, text, ctx)
            record = {**clip_info.__dict__, "system": system, "heard": text, "understood": ok, "asked": asked,
                      "seconds": seconds, "end_pointer_closed": cut is not None, **extra}
            records.append(record)
            if out is not None:
                out.write(json.dumps(record) + "\n")
                out.flush()
            if args.show_errors and ok is not None and (not ok or normalize_text(text) != normalize_text(clip_info.text)):
                print(f"  [{system} {clip_info.voice} {clip_info.condition}] {clip_info.text!r} -> {text!r}"
                      f"{' (asked)' if asked else ''}", flush=True)
    print(f"\nSpeech benchmark: whisper {' vs '.join(stts)}, torch threads {args.threads}, seeds {args.seeds}, "
          f"VAD hangover {vad.end_silence_s:.2f} s")
    report(records)
    return 0


def report(records: list[dict]) -> None:
    """Print the tables of a run from its clip records."""
    by_cond: dict[tuple[str, str], Cell] = {}
    by_voice: dict[tuple[str, str], Cell] = {}
    for r in records:
        system = r["system"]
        cells = [by_cond.setdefault((system, r["condition"]), Cell())]
        if r["kind"] == "noise":
            cells[0].noise_clips += 1
            cells[0].noise_text += bool(r["heard"].strip())
            continue
        cells.append(by_voice.setdefault((system, r["voice"]), Cell()))
        ok = bool(r["understood"])
        for cell in cells:
            cell.refs.append(r["text"])
            cell.hyps.append(r["heard"])
            cell.ok[r["kind"]].append(ok)
            cell.asked += r["asked"]
            cell.missed += not r["heard"].strip()
            cell.wrong_acted += (not ok) and not r["asked"] and bool(r["heard"].strip())
            cell.seconds.append(r["seconds"])
    print_table("By condition", dict(sorted(by_cond.items(), key=lambda kv: (kv[0][1], kv[0][0]))))
    print_table("By voice (all conditions)", dict(sorted(by_voice.items(), key=lambda kv: (kv[0][1], kv[0][0]))))
    summary = {}
    for system in dict.fromkeys(s for s, _ in by_cond):
        for level in ("20 dB", "10 dB"):
            merged = Cell()
            for (s, cond), c in by_cond.items():
                if s == system and level in cond:
                    merged.refs += c.refs
                    merged.hyps += c.hyps
                    for k, v in c.ok.items():
                        merged.ok[k] += v
                    merged.asked += c.asked
                    merged.missed += c.missed
                    merged.wrong_acted += c.wrong_acted
                    merged.seconds += c.seconds
            summary[(system, f"all {level}")] = merged
    print_table("All 20 dB / 10 dB conditions (bars at 20 dB: WER <= 5 %, command accuracy >= 97 %)", summary)


if __name__ == "__main__":
    raise SystemExit(main())
