"""Push-to-talk: the microphone records while a key is held, beside the voice detector.

`PushToTalkSource(read_block, key, rate)` is an `AudioSource`: `next_utterance` waits for the
key to go down, keeps the microphone blocks while it stays down and returns them the moment it
comes up (plus `tail_s`), so no end-of-speech wait is spent and a noisy room cannot cut or
extend the utterance. The key is a `KeyHold`:
- `TerminalKeyHold`: a key of the terminal (space by default). A terminal has no key-up
  event; a held key sends the character again and again (auto-repeat), so the key counts as
  held while characters keep coming: the first gap may last `repeat_delay_s` (the keyboard's
  delay before repeating, 0.25-0.6 s usually), later ones `release_s`;
- `ScriptedKeyHold`: presses and releases at given times (tests, demos).
"""

from __future__ import annotations

import sys
import threading
import time
from abc import ABC, abstractmethod
from typing import Callable, Optional

import numpy as np

from perception.speech.audio import Audio
from perception.speech.audio_io import AudioSource, AudioUnavailable


class KeyHold(ABC):
    """Whether the talk key is down."""

    @abstractmethod
    def is_held(self) -> bool:
        """True while the key is down."""

    def close(self) -> None:
        """Release the keyboard."""


class ScriptedKeyHold(KeyHold):
    """Held during the given (press_s, release_s) intervals of a clock (default: monotonic)."""

    def __init__(self, intervals: list[tuple[float, float]], clock: Callable[[], float] = time.monotonic) -> None:
        self.intervals = intervals
        self.clock = clock

    def is_held(self) -> bool:
        now = self.clock()
        return any(a <= now < b for a, b in self.intervals)


class TerminalKeyHold(KeyHold):
    """A terminal key as a hold key, through its auto-repeat (see the module docstring)."""

    def __init__(self, key: str = " ", repeat_delay_s: float = 0.6, release_s: float = 0.15, stream=None) -> None:
        self.key = key
        self.repeat_delay_s = repeat_delay_s
        self.release_s = release_s
        self.stream = stream or sys.stdin
        self._first: Optional[float] = None  # when the current hold began
        self._last: Optional[float] = None  # when its latest character came
        self._repeats = 0
        self._lock = threading.Lock()
        self._saved = None
        if not self.stream.isatty():
            raise AudioUnavailable("push-to-talk needs a terminal (standard input is not one)")
        import termios
        import tty

        fd = self.stream.fileno()
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)  # characters arrive one by one, without Enter and without echo
        threading.Thread(target=self._read, name="push-to-talk-key", daemon=True).start()

    def _read(self) -> None:
        while True:
            ch = self.stream.read(1)
            if not ch:
                return
            if ch != self.key:
                continue
            with self._lock:
                now = time.monotonic()
                if not self._held_at(now):
                    self._first, self._repeats = now, 0
                else:
                    self._repeats += 1
                self._last = now

    def _held_at(self, now: float) -> bool:
        if self._last is None:
            return False
        gap = self.repeat_delay_s if self._repeats == 0 else self.release_s
        return now - self._last <= gap

    def is_held(self) -> bool:
        with self._lock:
            return self._held_at(time.monotonic())

    def close(self) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(self.stream.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None


class PushToTalkSource(AudioSource):
    """Utterances are what the microphone hears while the key is held.

    `read_block(timeout_s)` returns the next microphone block (float32, (n,)) or None when
    none came in time (`audio_io.MicrophoneSource.read_block`).
    """

    def __init__(self, read_block: Callable[[float], Optional[np.ndarray]], key: KeyHold, rate: int,
                 tail_s: float = 0.15, min_s: float = 0.2, poll_s: float = 0.01) -> None:
        self.read_block = read_block
        self.key = key
        self.rate = rate
        # audio kept after the key comes up (the last syllable often overlaps the release), s
        self.tail_s = tail_s
        # shorter holds are taken for a slip of the finger and ignored, s
        self.min_s = min_s
        self.poll_s = poll_s

    def next_utterance(self, timeout_s: float | None = None) -> Audio | None:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            while not self.key.is_held():  # blocks heard before the key goes down are dropped
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                self.read_block(self.poll_s)
            blocks: list[np.ndarray] = []
            while self.key.is_held():
                block = self.read_block(0.2)
                if block is not None:
                    blocks.append(block)
            tail_end = time.monotonic() + self.tail_s
            while time.monotonic() < tail_end:
                block = self.read_block(max(tail_end - time.monotonic(), 0.0))
                if block is not None:
                    blocks.append(block)
            clip = Audio(np.concatenate(blocks) if blocks else np.zeros(0, np.float32), self.rate)
            if clip.duration_s >= self.min_s:
                return clip

    def close(self) -> None:
        self.key.close()


def open_push_to_talk(key: str = " ") -> PushToTalkSource:
    """The default microphone, recorded while `key` is held in this terminal; raises
    AudioUnavailable (no sound card, no terminal) with a one-line reason."""
    from perception.speech.audio_io import open_microphone

    mic = open_microphone()
    return PushToTalkSource(mic.read_block, TerminalKeyHold(key), mic.rate)
