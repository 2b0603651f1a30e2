"""Spoken interjections while the arm moves ("stop", "no, the other one").

`VoiceInterjections` runs a daemon thread that keeps taking utterances from an AudioSource,
transcribes them and queues the text. It is an agent interjection source: the motion loop
calls `poll(step)` every control step and gets the oldest queued utterance (or None) without
ever blocking, so a slow transcription never stalls the arm. `on_heard` is called on the
listener thread as soon as something is heard (e.g. to halt the arm at once on "stop").
With a `reader` (`CommandReader`) the utterance is decoded with the correction prompt and read
as a correction against the scene (`vocabulary()`); one the reader doubts is passed on as a
bare "no": the agent halts and asks what to do instead rather than act on a guess. The motion
tells it when the arm waits (`note_paused`): "go on" is then read as sense, "hold on" as none,
and the other way round while it moves (they sound alike).
"""

from __future__ import annotations

import queue
import re
import threading
from typing import Callable

from perception.speech.audio_io import AudioSource, AudioUnavailable, EndOfInput
from perception.speech.stt import WhisperTranscriber
from perception.speech.understanding import CommandReader, SceneVocabulary, scene_prompt

#: What a doubtful correction is passed on as: a correction with nothing to act on.
DOUBTFUL_CORRECTION = "no"

_STOP = re.compile(r"\b(stop|halt|freeze|wait)\b", re.I)


def is_stop(text: str) -> bool:
    """True when the words ask the arm to stop now."""
    return bool(_STOP.search(text))


class VoiceInterjections:
    """Background listener feeding transcribed utterances to `poll(step)`.

    Start with `start()`, end with `stop()` (or use as a context manager). The source is only
    read while running: run it while the arm moves and stop() it before a foreground
    `listen()` (both would otherwise take turns reading the same microphone).
    """

    def __init__(self, source: AudioSource, transcriber: WhisperTranscriber,
                 on_heard: Callable[[str], None] | None = None, poll_timeout_s: float = 0.5,
                 reader: CommandReader | None = None,
                 vocabulary: Callable[[], SceneVocabulary] = SceneVocabulary) -> None:
        self.source = source
        self.transcriber = transcriber
        # reads what was heard as a correction (None: whisper's text as it is)
        self.reader = reader
        # what the robot sees now, for the prompt and the reader
        self.vocabulary = vocabulary
        self.on_heard = on_heard
        # how long one read of the source may block, so stop() is honoured within about this time
        self.poll_timeout_s = poll_timeout_s
        self._heard: "queue.Queue[str]" = queue.Queue()
        self._running = threading.Event()
        self._thread: threading.Thread | None = None
        #: why the listener stopped on its own (device gone, script ended); None while healthy
        self.error: str | None = None
        self._paused = threading.Event()  # set while the arm waits after "hold on"

    def start(self) -> "VoiceInterjections":
        if self._thread is None or not self._thread.is_alive():
            self._running.set()
            self._thread = threading.Thread(target=self._loop, name="voice-interjections", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout=self.poll_timeout_s + 5.0)
            self._thread = None

    def __enter__(self) -> "VoiceInterjections":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def poll(self, step: int) -> str | None:
        """The oldest utterance heard and not yet taken, else None (never blocks)."""
        try:
            return self._heard.get_nowait()
        except queue.Empty:
            return None

    def note_paused(self, paused: bool) -> None:
        """The arm waits (True) or moves (False): what a correction can mean now."""
        (self._paused.set if paused else self._paused.clear)()

    def _text(self, clip) -> str:
        if self.reader is None:
            return self.transcriber.transcribe(clip).text
        table = self.vocabulary()
        nbest = self.transcriber.transcribe_nbest(clip, prompt=scene_prompt(table, expected="correction"))
        senseless = frozenset({"pause"} if self._paused.is_set() else {"resume"})
        reading = self.reader.read(nbest, table, "correction", senseless)
        return DOUBTFUL_CORRECTION if reading.text and reading.confirm else reading.text

    def _loop(self) -> None:
        while self._running.is_set():
            try:
                clip = self.source.next_utterance(self.poll_timeout_s)
            except (EndOfInput, AudioUnavailable) as exc:
                self.error = str(exc)
                return
            if clip is None or not self._running.is_set():
                continue
            text = self._text(clip)
            if text:
                self._heard.put(text)
                if self.on_heard is not None:
                    self.on_heard(text)
