"""End-of-speech wait of the voice detector: how short can it be before commands get cut in two?

    python -m benchmarks.bench_end_of_speech [--seeds 12000-12999] [--commands 30]
                                             [--waits 0.3 0.4 0.5 0.58 0.7]

Suite commands (seed block given) are spoken by the test set's voices with a hesitation pause
of 0 to 0.5 s inserted at a random word boundary ("put the red cube ... in the bowl"), in quiet
and in room noise at 20 dB, and streamed in 30 ms blocks through `UtteranceDetector` with each
`end_silence_s`. Reported per wait: how often one command came out as two or more utterances
(split: the robot would act on half a command), by pause length, and the median time from the
end of speech to the cut (the wait's share of the voice latency). No whisper involved.
"""

from __future__ import annotations

import argparse

import numpy as np

PAUSES_S = (0.0, 0.2, 0.3, 0.4, 0.5)


def cuts(clip, vad) -> list:
    """Every utterance the streaming detector cuts from `clip`, with the stream time of each cut."""
    from perception.speech.vad import UtteranceDetector

    detector = UtteranceDetector(clip.rate, vad)
    block = int(clip.rate * vad.frame_s)
    out = []
    for start in range(0, len(clip.samples), block):
        cut = detector.feed(clip.samples[start : start + block])
        if cut is not None:
            out.append((start + block) / clip.rate)
    return out


def voiced_part(clip):
    """`clip` without its leading and trailing quiet (10 ms frames under -50 dBFS), so the
    inserted pause is the whole gap between the two halves."""
    from perception.speech.audio import Audio
    from perception.speech.vad import frame_levels_db

    frame = int(0.01 * clip.rate)
    voiced = np.nonzero(frame_levels_db(clip.samples, frame) > -50.0)[0]
    if len(voiced) == 0:
        return clip
    return Audio(clip.samples[voiced[0] * frame : (voiced[-1] + 1) * frame], clip.rate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="12000-12999")
    parser.add_argument("--commands", type=int, default=30)
    parser.add_argument("--waits", type=float, nargs="+", default=[0.3, 0.4, 0.5, 0.58, 0.7])
    args = parser.parse_args(argv)

    from dataclasses import replace

    from agent.suites import make_scenario, parse_seeds
    from benchmarks.bench_voice_latency import last_voiced_s
    from agent.speech_phrases import COMMAND_SUITES
    from perception.speech.audio import WHISPER_RATE, Audio
    from perception.speech.testset import CONDITIONS, VOICES, render
    from perception.speech.vad import VadConfig

    seeds = parse_seeds(args.seeds)
    rng = np.random.default_rng(seeds[0])
    conditions = [CONDITIONS[0], next(c for c in CONDITIONS if c.noise == "room" and c.snr_db == 20.0)]
    clips = []  # (pause s, clip, speech end s)
    for k in range(args.commands):
        text = make_scenario(COMMAND_SUITES[k % len(COMMAND_SUITES)], seeds[k]).instruction
        words = text.split()
        at = int(rng.integers(2, len(words))) if len(words) > 2 else 1
        voice = VOICES[k % len(VOICES)]
        for pause in PAUSES_S:
            tts = voice.backend_for(np.random.default_rng([seeds[0], k]))
            first = voiced_part(tts.synthesize(" ".join(words[:at])).resampled(WHISPER_RATE))
            second = voiced_part(tts.synthesize(" ".join(words[at:])).resampled(WHISPER_RATE))
            speech = Audio.concat([first, Audio.silence(pause), second])
            for cond in conditions:
                clip = render(speech, cond, np.random.default_rng([k, int(pause * 10)]), [], (0.4, 1.2))
                clips.append((pause, clip, 0.4 + last_voiced_s(speech)))
    print(f"\nEnd-of-speech wait: {args.commands} suite commands (seeds {args.seeds}) x {len(PAUSES_S)} pause "
          f"lengths x {len(conditions)} conditions (quiet, room 20 dB + reverb)")
    header = f"{'wait s':>7} " + " ".join(f"{f'split@{p:.1f}s':>10}" for p in PAUSES_S) + f" {'eos->cut med s':>15}"
    print(header)
    print("-" * len(header))
    for wait in args.waits:
        vad = replace(VadConfig(), end_silence_s=wait)
        split = {p: [] for p in PAUSES_S}
        delay = []
        for pause, clip, speech_end in clips:
            found = cuts(clip, vad)
            split[pause].append(len(found) > 1)
            if found:
                delay.append(found[-1] - speech_end)
        print(f"{wait:7.2f} " + " ".join(f"{100 * np.mean(split[p]):9.1f}%" for p in PAUSES_S)
              + f" {np.median(delay):15.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
