"""Energy-based voice-activity detection: find speech in a clip, cut utterances from a stream.

A 30 ms frame is speech when its energy is `margin_db` above the background noise floor and
above an absolute floor (`min_level_db`, dBFS). Offline, the floor is a low percentile of the
clip's frame energies; when streaming, it is measured on the first `calibrate_s` of the
microphone and then follows the quiet frames. An utterance ends after `end_silence_s` of
non-speech (the "hangover": it is part of end-of-speech latency).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception.speech.audio import Audio


@dataclass(frozen=True)
class VadConfig:
    """Voice-activity thresholds; times in seconds, levels in dB relative to full scale."""

    # analysis frame length; 30 ms is the usual speech frame
    frame_s: float = 0.03
    # a frame must be this far above the noise floor to count as speech
    margin_db: float = 10.0
    # ... and above this absolute level (digital silence / a muted mic is never speech)
    min_level_db: float = -50.0
    # shorter bursts (clicks, bumps) are not utterances
    min_speech_s: float = 0.12
    # this much quiet ends an utterance (also bridges pauses between words). 0.5 s: no command
    # with a hesitation up to 0.3 s was cut in two, 8 % of those with 0.4 s were (0.6 s: none,
    # 0.1 s later to act); benchmarks/bench_end_of_speech.py. Slow speakers: push-to-talk.
    end_silence_s: float = 0.5
    # audio kept before the first speech frame so soft onsets are not clipped
    pre_roll_s: float = 0.2
    # streaming only: leading audio used to measure the room's noise floor
    calibrate_s: float = 0.3
    # streaming only: a monologue is cut here
    max_utterance_s: float = 15.0


@dataclass(frozen=True)
class Segment:
    """Speech between `start_s` and `end_s` of a clip."""

    start_s: float
    end_s: float


def frame_levels_db(samples: np.ndarray, frame_len: int) -> np.ndarray:
    """RMS level of consecutive frames in dBFS, shape (n_frames,); a trailing partial frame is dropped."""
    n = len(samples) // frame_len
    if n == 0:
        return np.zeros(0)
    frames = samples[: n * frame_len].astype(np.float64).reshape(n, frame_len)
    return 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-10)  # 1e-10 -> -100 dB for digital silence


def speech_segments(audio: Audio, config: VadConfig = VadConfig()) -> list[Segment]:
    """Speech segments of a whole clip (pauses shorter than `end_silence_s` are bridged)."""
    frame_len = max(1, int(round(config.frame_s * audio.rate)))
    levels = frame_levels_db(audio.samples, frame_len)
    if len(levels) == 0:
        return []
    floor = float(np.percentile(levels, 10))
    speech = levels > max(floor + config.margin_db, config.min_level_db)
    segments: list[Segment] = []
    gap_frames = int(round(config.end_silence_s / config.frame_s))
    start, last = None, None
    for i, is_speech in enumerate(speech):
        if not is_speech:
            continue
        if start is not None and i - last > gap_frames:
            segments.append(Segment(start * config.frame_s, (last + 1) * config.frame_s))
            start = None
        start = i if start is None else start
        last = i
    if start is not None:
        segments.append(Segment(start * config.frame_s, (last + 1) * config.frame_s))
    return [s for s in segments if s.end_s - s.start_s >= config.min_speech_s]


def has_speech(audio: Audio, config: VadConfig = VadConfig()) -> bool:
    """True when the clip holds at least one speech segment."""
    return bool(speech_segments(audio, config))


class UtteranceDetector:
    """Streaming end-pointer: feed microphone blocks, get back each finished utterance.

    `feed(block)` returns an `Audio` (pre-roll + speech + the trailing quiet) once an utterance
    has ended, else None. Not thread-safe: one detector per audio stream.
    """

    def __init__(self, rate: int, config: VadConfig = VadConfig()) -> None:
        self.rate = rate
        self.config = config
        self._frame_len = max(1, int(round(config.frame_s * rate)))
        self._pending = np.zeros(0, np.float32)  # samples not yet framed
        self._calibration: list[float] = []  # frame levels while measuring the noise floor
        self._floor_db: float | None = None
        self._pre_roll: list[np.ndarray] = []
        self._utterance: list[np.ndarray] = []
        self._speech_frames = 0
        self._quiet_frames = 0

    @property
    def in_speech(self) -> bool:
        """True while an utterance is being recorded (someone is talking)."""
        return bool(self._utterance)

    def feed(self, block: np.ndarray) -> Audio | None:
        """Add a block of float32 samples (n,) at `rate`; returns a finished utterance or None."""
        self._pending = np.concatenate([self._pending, np.asarray(block, np.float32).reshape(-1)])
        done = None
        while len(self._pending) >= self._frame_len:
            frame, self._pending = self._pending[: self._frame_len], self._pending[self._frame_len :]
            done = self._step(frame) or done
        return done

    def _step(self, frame: np.ndarray) -> Audio | None:
        cfg = self.config
        level = float(frame_levels_db(frame, len(frame))[0])
        if self._floor_db is None:  # still measuring the room
            self._calibration.append(level)
            if len(self._calibration) * cfg.frame_s >= cfg.calibrate_s:
                self._floor_db = float(np.median(self._calibration))
            return None
        is_speech = level > max(self._floor_db + cfg.margin_db, cfg.min_level_db)
        if not self._utterance:
            if is_speech:
                self._utterance = [*self._pre_roll, frame]
                self._speech_frames, self._quiet_frames = 1, 0
            else:
                # follow the background: quickly down, slowly up (per 30 ms frame)
                rate = 0.5 if level < self._floor_db else 0.02
                self._floor_db += rate * (level - self._floor_db)
                self._pre_roll = (self._pre_roll + [frame])[-int(round(cfg.pre_roll_s / cfg.frame_s)) or 1 :]
            return None
        self._utterance.append(frame)
        self._speech_frames += int(is_speech)
        self._quiet_frames = 0 if is_speech else self._quiet_frames + 1
        too_long = len(self._utterance) * cfg.frame_s >= cfg.max_utterance_s
        if self._quiet_frames * cfg.frame_s >= cfg.end_silence_s or too_long:
            clip = Audio(np.concatenate(self._utterance), self.rate)
            long_enough = self._speech_frames * cfg.frame_s >= cfg.min_speech_s
            self._utterance, self._pre_roll = [], []
            return clip if long_enough else None
        return None
