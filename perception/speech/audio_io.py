"""Microphone and speaker behind one small interface, so nothing else needs a sound card.

- `AudioSource.next_utterance(timeout_s) -> Audio | None`: one utterance (None: nothing heard
  before the timeout); raises `EndOfInput` when a scripted source has run out (like input()
  raising EOFError at the end of stdin).
- `AudioSink.play(audio)`: speaker, WAV files, or nothing.
Implementations: `MicrophoneSource` (sounddevice + energy VAD), `ScriptedAudioSource` (clips or
WAV paths, for tests and scripted sessions), `SpeakerSink`, `WavDirSink`, `NullSink`.
`open_microphone()` / `open_speaker()` raise `AudioUnavailable` with a clear message when there is
no PortAudio, no device, or the device refuses: callers fall back to text, never crash or hang.
"""

from __future__ import annotations

import queue
import re
import sys
import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Iterable

import numpy as np

from perception.speech.audio import WHISPER_RATE, Audio, read_wav, write_wav
from perception.speech.vad import UtteranceDetector, VadConfig


class AudioUnavailable(RuntimeError):
    """No usable sound device; the message says why and what to do."""


class EndOfInput(EOFError):
    """A scripted audio source has no more utterances."""


class AudioSource(ABC):
    """Where utterances come from."""

    @abstractmethod
    def next_utterance(self, timeout_s: float | None = None) -> Audio | None:
        """Block until one utterance is complete; None when nothing was said within timeout_s."""

    def close(self) -> None:
        """Release the device (no-op for scripted sources)."""


class AudioSink(ABC):
    """Where robot speech goes."""

    @abstractmethod
    def play(self, audio: Audio, text: str = "") -> None:
        """Output one clip (`text` is what it says: used for file names and logs)."""

    def close(self) -> None:
        """Release the device."""


class ScriptedAudioSource(AudioSource):
    """Plays back a fixed list of clips or WAV paths, one per `next_utterance` call."""

    def __init__(self, items: Iterable[Audio | str | Path]) -> None:
        self._items = list(items)

    def next_utterance(self, timeout_s: float | None = None) -> Audio | None:
        if not self._items:
            raise EndOfInput("no more scripted audio")
        item = self._items.pop(0)
        if isinstance(item, Audio):
            return item
        clip = read_wav(item)
        for warning in clip.warnings:  # a truncated file is still said, with a word about it
            print(f"warning: {warning}", file=sys.stderr, flush=True)
        return clip

    def push(self, clip: Audio) -> None:
        """Queue another clip (a simulated person's next reply)."""
        self._items.append(clip)


class NullSink(AudioSink):
    def play(self, audio: Audio, text: str = "") -> None:
        return None


def clip_filename(prefix: str, index: int, text: str) -> str:
    """`<prefix><NNN>_<first words>.wav`: sortable, and says what the clip says."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "clip"
    return f"{prefix}{index:03d}_{slug}.wav"


class WavDirSink(AudioSink):
    """Saves each clip as `<folder>/<prefix><NNN>_<first words>.wav` (16-bit PCM)."""

    def __init__(self, folder: str | Path, prefix: str = "robot_") -> None:
        self.folder = Path(folder)
        self.prefix = prefix
        self.paths: list[Path] = []

    def play(self, audio: Audio, text: str = "") -> None:
        self.paths.append(write_wav(self.folder / clip_filename(self.prefix, len(self.paths), text), audio))


def _sounddevice():
    """Import sounddevice, turning a missing PortAudio into AudioUnavailable."""
    try:
        import sounddevice
    except (ImportError, OSError) as exc:  # OSError: the PortAudio shared library is missing
        raise AudioUnavailable(
            f"sound I/O is unavailable ({exc}); install PortAudio (sudo apt-get install libportaudio2) "
            "and sounddevice, or use the text channel"
        ) from exc
    return sounddevice


def check_device(kind: str, rates: tuple[int, ...] = ()) -> int:
    """Check the default `kind` ("input" | "output") device; returns a sample rate it accepts.

    Tries `rates` in order, then the device's default rate. Raises AudioUnavailable.
    """
    sd = _sounddevice()
    try:
        if len(sd.query_devices()) == 0:
            raise AudioUnavailable("no sound card found (PortAudio lists no devices)")
        info = sd.query_devices(kind=kind)
        check = sd.check_input_settings if kind == "input" else sd.check_output_settings
        errors = []
        for rate in (*rates, int(info["default_samplerate"])):
            try:
                check(samplerate=rate, channels=1, dtype="float32")
                return rate
            except Exception as exc:  # this rate is refused; try the next
                errors.append(f"{rate} Hz: {exc}")
        raise AudioUnavailable(f"the default {kind} device refuses mono float32 audio ({'; '.join(errors)})")
    except AudioUnavailable:
        raise
    except Exception as exc:  # PortAudioError, ValueError ("no default input device")
        raise AudioUnavailable(f"no usable {kind} sound device: {exc}") from exc


class MicrophoneSource(AudioSource):
    """The default microphone, cut into utterances by energy VAD.

    A 30 ms-block input stream fills a queue from PortAudio's thread; `next_utterance` feeds the
    blocks to an `UtteranceDetector`. The stream opens on first use and stays open (so a
    background listener and `listen()` never fight over the device: a lock serialises them).
    """

    def __init__(self, rate: int = WHISPER_RATE, vad: VadConfig = VadConfig()) -> None:
        self.rate = rate
        self.vad = vad
        self._blocks: "queue.Queue[np.ndarray]" = queue.Queue()
        self._stream = None
        self._lock = threading.Lock()

    def _open(self) -> None:
        if self._stream is not None:
            return
        sd = _sounddevice()

        def on_block(indata, frames, time_info, status) -> None:  # runs on PortAudio's thread
            self._blocks.put(indata[:, 0].copy())

        try:
            self._stream = sd.InputStream(samplerate=self.rate, channels=1, dtype="float32",
                                          blocksize=int(self.rate * self.vad.frame_s), callback=on_block)
            self._stream.start()
        except Exception as exc:
            self._stream = None
            raise AudioUnavailable(f"cannot open the microphone: {exc}") from exc

    def next_utterance(self, timeout_s: float | None = None) -> Audio | None:
        with self._lock:
            self._open()
            while not self._blocks.empty():  # drop what was said before we started listening
                self._blocks.get_nowait()
            detector = UtteranceDetector(self.rate, self.vad)
            deadline = None if timeout_s is None else time.monotonic() + timeout_s
            while deadline is None or time.monotonic() < deadline or detector.in_speech:
                try:
                    block = self._blocks.get(timeout=0.2)
                except queue.Empty:
                    if not self._stream.active:  # device went away: do not wait forever
                        raise AudioUnavailable("the microphone stream stopped")
                    continue
                clip = detector.feed(block)
                if clip is not None:
                    return clip
            return None

    def read_block(self, timeout_s: float) -> np.ndarray | None:
        """The next raw block (float32, (n,)) or None when none came within `timeout_s`."""
        self._open()
        try:
            return self._blocks.get(timeout=max(timeout_s, 0.0))
        except queue.Empty:
            return None

    def close(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None


class SpeakerSink(AudioSink):
    """The default speaker; clips are resampled to the device's preferred rate."""

    def __init__(self, rate: int) -> None:
        self.rate = rate

    def play(self, audio: Audio, text: str = "") -> None:
        sd = _sounddevice()
        try:
            sd.play(audio.resampled(self.rate).samples, self.rate, blocking=True)
        except Exception as exc:
            raise AudioUnavailable(f"cannot play on the speaker: {exc}") from exc


def open_microphone(vad: VadConfig = VadConfig()) -> MicrophoneSource:
    """The default microphone (16 kHz when it allows), checked now (raises AudioUnavailable)."""
    return MicrophoneSource(check_device("input", (WHISPER_RATE,)), vad)


def open_speaker() -> SpeakerSink:
    """The default speaker at a rate it accepts, checked now (raises AudioUnavailable)."""
    return SpeakerSink(check_device("output", (22_050,)))
