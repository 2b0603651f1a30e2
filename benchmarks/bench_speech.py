"""Speech benchmark: word error rate and end-of-speech latency of the robot's ears.

    python -m benchmarks.bench_speech [--snr 20 10] [--voices piper espeak] [--compare-prompt]
                                      [--limit N] [--threads 1] [--show-errors]

For every utterance of UTTERANCES (commands and answers a person gives the robot), each voice
(piper, espeak-ng) and each condition (clean, white noise at each --snr dB) the text is synthesised,
padded with 0.5 s of quiet before and 1.0 s after (noise covers the padding), streamed in
30 ms blocks through the microphone's VAD end-pointer, and the utterance it cuts out is
transcribed with Whisper tiny.en (packaged weights) with the default robot-domain prompt
(stt.DOMAIN_PROMPT) and, with --compare-prompt, also without any prompt.

Reported per row: WER (word edits / reference words, punctuation and case ignored), sentence
accuracy, mean avg_logprob, how well "avg_logprob < -0.8" flags wrong transcripts (the channel's
"did you say ...?" rule), and latency = VAD hangover (audio time from the last speech frame to the
cut) + transcription wall time (median / 90th percentile). Wall-clock timings depend on the
load on the machine's cores; --threads caps torch's threads.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

import numpy as np

#: Commands and answers a person says to the robot (56): instructions, clarifications, corrections.
UTTERANCES: tuple[str, ...] = (
    "pick up the red cube",
    "put the red cube in the green bowl",
    "put the blue ball in the bowl",
    "pick up the yellow cylinder",
    "place the green block on the blue cube",
    "put the orange ball next to the purple cube",
    "move the pink cylinder to the left of the bowl",
    "put the cyan cube behind the red ball",
    "pick up the small brown cube",
    "put the large white ball in the black bowl",
    "grab the gray cylinder",
    "put the purple ball in front of the yellow cube",
    "pick up the blue sphere",
    "put the green cube to the right of the orange cylinder",
    "move the red block into the white bowl",
    "pick up the medium pink ball",
    "place the black cube on the green cylinder",
    "put the brown ball next to the cyan bowl",
    "hand me the yellow block",
    "put the small red cube in the large bowl",
    "pick up the cube on the left",
    "put the ball on the right in the bowl",
    "take the blue cylinder and put it behind the red cube",
    "pick up the orange cube nearest to me",
    "put the gray ball in the purple bowl",
    "put it in the bowl",
    "pick it up",
    "move the green ball a little to the left",
    "put the white cube on top of the black cube",
    "pick up the purple cylinder on the right",
    "put the red ball in the blue bowl",
    "stack the yellow cube on the green cube",
    "the one on the left",
    "the one on the right",
    "the red one",
    "the blue one",
    "the small one",
    "the big one",
    "the one nearer to me",
    "the one farther away",
    "the cube",
    "the ball",
    "yes",
    "no",
    "yes, that one",
    "no, the other one",
    "stop",
    "stop, wait",
    "never mind",
    "the green bowl",
    "in the bowl",
    "the one in the middle",
    "the left one",
    "the cylinder next to the bowl",
    "no, I meant the blue ball",
    "that's right",
)


@dataclass
class Row:
    """Accumulated results of one (voice, condition, prompt) cell."""

    refs: list[str] = field(default_factory=list)
    hyps: list[str] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    latency_s: list[float] = field(default_factory=list)
    compute_s: list[float] = field(default_factory=list)
    vad_misses: int = 0


def streamed_cut(clip, vad):
    """Feed `clip` in 30 ms blocks to the VAD end-pointer; (utterance, audio s from speech end to cut)."""
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snr", type=float, nargs="+", default=[20.0], help="noisy conditions: white noise SNR, dB")
    parser.add_argument("--voices", nargs="+", default=["piper", "espeak"])
    parser.add_argument("--limit", type=int, default=None, help="only the first N utterances")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1 is fastest when other jobs share the 2 cores)")
    parser.add_argument("--compare-prompt", action="store_true", help="also transcribe without the domain prompt")
    parser.add_argument("--show-errors", action="store_true", help="print every wrong transcript")
    args = parser.parse_args(argv)

    import torch

    from perception.speech.audio import WHISPER_RATE, Audio
    from perception.speech.stt import DOMAIN_PROMPT, SttConfig, WhisperTranscriber
    from perception.speech.synthesize import VoiceSynthesizer, add_noise
    from perception.speech.vad import VadConfig
    from perception.speech.wer import normalize_text, word_error_rate

    torch.set_num_threads(args.threads)
    utterances = UTTERANCES[: args.limit]
    vad = VadConfig()
    model = WhisperTranscriber().model  # one model shared by both prompt settings
    transcribers = {"domain": WhisperTranscriber(SttConfig(vad=vad, prompt=DOMAIN_PROMPT), model)}
    if args.compare_prompt:
        transcribers["none"] = WhisperTranscriber(SttConfig(vad=vad, prompt=None), model)
    synth = VoiceSynthesizer()
    conditions = {"clean": None, **{f"{snr:g} dB": snr for snr in args.snr}}
    rows: dict[tuple[str, str, str], Row] = {}
    for voice in args.voices:
        for i, text in enumerate(utterances):
            speech = synth.backend(voice).synthesize(text).resampled(WHISPER_RATE)
            padded = Audio.concat([Audio.silence(0.5), speech, Audio.silence(1.0)])
            for cond, snr in conditions.items():
                clip = add_noise(padded, snr, np.random.default_rng(i))
                cut, hangover = streamed_cut(clip, vad)
                for prompt, stt in transcribers.items():
                    row = rows.setdefault((voice, cond, prompt), Row())
                    if cut is None:
                        row.vad_misses += 1
                    start = time.perf_counter()
                    t = stt.transcribe(cut if cut is not None else clip)
                    compute = time.perf_counter() - start
                    row.refs.append(text)
                    row.hyps.append(t.text)
                    row.logprobs.append(t.avg_logprob)
                    row.compute_s.append(compute)
                    row.latency_s.append(hangover + compute)
                    if args.show_errors and normalize_text(t.text) != normalize_text(text):
                        print(f"  [{voice} {cond} {prompt}] {text!r} -> {t.text!r} ({t.avg_logprob:.2f})")

    print(f"\nSpeech benchmark: {len(utterances)} utterances x {len(args.voices)} voices, Whisper tiny.en "
          f"(packaged), torch threads {args.threads}, VAD hangover {vad.end_silence_s:.2f} s")
    header = (f"{'voice':<7} {'cond':<7} {'prompt':<7} {'WER%':>6} {'sent%':>6} {'logp':>6} "
              f"{'flag P/R':>9} {'vadmiss':>7} {'stt med/p90 s':>14} {'eos->text med/p90 s':>20}")
    print(header)
    print("-" * len(header))
    for (voice, cond, prompt), row in rows.items():
        wrong = np.array([normalize_text(r) != normalize_text(h) for r, h in zip(row.refs, row.hyps)])
        flagged = np.array(row.logprobs) < -0.8
        precision = (wrong & flagged).sum() / max(flagged.sum(), 1)
        recall = (wrong & flagged).sum() / max(wrong.sum(), 1)
        comp, lat = np.array(row.compute_s), np.array(row.latency_s)
        print(f"{voice:<7} {cond:<7} {prompt:<7} {100 * word_error_rate(row.refs, row.hyps):6.1f} "
              f"{100 * (1 - wrong.mean()):6.1f} {np.mean(row.logprobs):6.2f} "
              f"{precision:4.2f}/{recall:4.2f} {row.vad_misses:7d} "
              f"{np.median(comp):6.2f}/{np.percentile(comp, 90):5.2f}      "
              f"{np.median(lat):6.2f}/{np.percentile(lat, 90):5.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
