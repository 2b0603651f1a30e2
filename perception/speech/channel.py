"""`SpeechChannel`: the person's side of the conversation by voice (whisper in, TTS out).

It fits the agent's channel seam: `ask(prompt) -> str | None` (say the prompt, listen for the
reply; None when the person has left, i.e. a scripted source ran out) and `say(text)`.
`listen() -> str` returns "" for silence or unintelligible audio: the caller asks again.
`last_transcript` exposes whisper's confidence; with `confirm=True` a doubtful transcript is
checked first ("Did you say 'pick up the red cube'?"), otherwise the agent can do it with
`needs_confirmation()`. With a `reader` (`perception.speech.understanding.CommandReader`) the
channel reads whisper's n-best list against what the robot sees (`set_scene`) and, inside a
dialogue, against the answer the question asks for (a side, a colour, a number, yes/no); a
sound-alike repair it is unsure of is confirmed first ("Did you say the cyan cylinder?").
Lines are always printed too, so a log or a deaf user can follow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from perception.speech.audio_io import AudioSink, AudioSource, AudioUnavailable, EndOfInput, NullSink
from perception.speech.interjections import VoiceInterjections
from perception.speech.stt import Transcript, WhisperTranscriber
from perception.speech.tts import TtsBackend
from perception.speech.understanding import (CommandReader, ExpectedAnswer, SceneVocabulary, expected_answer,
                                             scene_prompt)

_YES = re.compile(r"^\s*(yes|yeah|yep|correct|right|that's right|exactly|sure|ok(ay)?)\b", re.I)
_NO = re.compile(r"^\s*(no|nope|wrong|not quite)\b", re.I)


@dataclass(frozen=True)
class ChannelConfig:
    """How the voice channel behaves."""

    # seconds to wait for someone to start talking before listen() returns ""
    listen_timeout_s: float = 20.0
    # a transcript below this mean token log-probability (nats) is doubtful
    confirm_logprob: float = -0.8
    # ... and so is one whisper thinks may be no speech at all
    confirm_no_speech: float = 0.5
    # ask "did you say ...?" inside listen() for doubtful transcripts
    confirm: bool = False
    # lines starting with one of these are spoken (prefix removed); others are only printed.
    # The session prints status lines ("  [robot sees] ...") that nobody wants read aloud.
    spoken_prefixes: tuple[str, ...] = ("robot: ", "robot asks: ")


class SpeechChannel:
    """Voice conversation over an AudioSource/AudioSink pair.

    Dependencies are passed in: `source` (microphone or scripted clips), `transcriber`,
    `tts` + `sink` (None: robot speech is printed only), `printer` (default print), and
    `interjections`: a background listener on the same source (the agent's interjection source
    while the arm moves); it is paused while the channel itself listens.
    """

    def __init__(self, source: AudioSource, transcriber: WhisperTranscriber, tts: TtsBackend | None = None,
                 sink: AudioSink | None = None, config: ChannelConfig = ChannelConfig(),
                 printer: Callable[[str], None] = print,
                 interjections: VoiceInterjections | None = None, reader: CommandReader | None = None) -> None:
        self.source = source
        self.transcriber = transcriber
        self.tts = tts
        self.sink = sink or NullSink()
        self.config = config
        self.printer = printer
        #: the most recent transcript (confidence for "did you say ...?"); None before listening
        self.last_transcript: Transcript | None = None
        self.interjections = interjections
        #: scene- and dialogue-aware reading of what was heard (None: whisper's text as it is)
        self.reader = reader
        #: what the robot sees, for biasing and repairs (`set_scene`)
        self.vocabulary = SceneVocabulary()
        #: what the current question asks for; "command" outside a question
        self.expected: ExpectedAnswer = "command"

    def set_scene(self, objects) -> None:
        """Objects the robot sees now (anything with `.color` and `.shape`): words are read against them."""
        self.vocabulary = SceneVocabulary.of(objects)

    def say(self, text: str) -> None:
        """Print `text`; speak it when it is robot speech (see ChannelConfig.spoken_prefixes)."""
        self.printer(text)
        spoken = self._spoken_part(text)
        if spoken and self.tts is not None:
            try:
                self.sink.play(self.tts.synthesize(spoken), spoken)
            except AudioUnavailable as exc:  # the speaker vanished: keep going in text
                self.printer(f"[voice] {exc}; continuing with text only")
                self.tts = None

    def _spoken_part(self, text: str) -> str:
        if not self.config.spoken_prefixes:
            return text.strip()
        for prefix in self.config.spoken_prefixes:
            if text.startswith(prefix):
                return text[len(prefix):].strip()
        return ""

    def listen(self) -> str:
        """One utterance as text; "" when nothing intelligible was heard. Raises EndOfInput."""
        if self.interjections is None:
            return self._listen()
        self.interjections.stop()  # one reader of the microphone at a time
        try:
            return self._listen()
        finally:
            self.interjections.start()  # back to catching "stop" while the robot works

    def _listen(self) -> str:
        clip = self.source.next_utterance(self.config.listen_timeout_s)
        if self.reader is not None:
            return self._read(clip)
        transcript = Transcript("") if clip is None else self.transcriber.transcribe(clip)
        self.last_transcript = transcript
        self.printer(f"you (heard): {transcript.text}" if transcript.text else "you (heard): <nothing>")
        if transcript.text and self.config.confirm and self.needs_confirmation(transcript):
            return self._confirm(transcript)
        return transcript.text

    def _read(self, clip) -> str:
        """Whisper's n-best list read against the scene and the expected answer."""
        if clip is None:
            self.last_transcript = Transcript("")
            self.printer("you (heard): <nothing>")
            return ""
        nbest = self.transcriber.transcribe_nbest(clip, prompt=scene_prompt(self.vocabulary, expected=self.expected))
        reading = self.reader.read(nbest, self.vocabulary, self.expected)  # type: ignore[union-attr]
        top = nbest.hypotheses[0].avg_logprob if nbest.hypotheses else 0.0
        self.last_transcript = Transcript(reading.text, top, nbest.no_speech_prob, nbest.audio_s, nbest.compute_s)
        shown = reading.text or "<nothing>"
        if reading.text and reading.heard and reading.text.lower() != reading.heard.lower().strip(".!? "):
            shown += f"  (whisper: {reading.heard})"
        self.printer(f"you (heard): {shown}")
        if reading.text and reading.confirm and self.config.confirm:
            return self._confirm(self.last_transcript, reading.confirm)
        return reading.text

    def close(self) -> None:
        """Stop the background listener and release the devices."""
        if self.interjections is not None:
            self.interjections.stop()
        self.source.close()
        self.sink.close()

    def ask(self, prompt: str) -> str | None:
        """Say `prompt` (when not empty) and return the reply; None when the person has left."""
        if prompt:
            self.say(prompt)
        self.expected = expected_answer(prompt) if prompt else "command"
        try:
            return self.listen()
        except EndOfInput:
            return None
        finally:
            self.expected = "command"

    def needs_confirmation(self, transcript: Transcript | None = None) -> bool:
        """True when the (last) transcript is doubtful enough to read back before acting on it."""
        t = transcript or self.last_transcript
        if t is None or not t.text:
            return False
        return t.avg_logprob < self.config.confirm_logprob or t.no_speech_prob > self.config.confirm_no_speech

    def _confirm(self, heard: Transcript, question: str = "") -> str:
        """Ask "did you say X?": yes -> X, no -> "" (ask again), anything else is the new utterance."""
        self.say("robot asks: " + (question or f'Did you say "{heard.text}"?'))
        reply = self.source.next_utterance(self.config.listen_timeout_s)
        answer = Transcript("") if reply is None else self.transcriber.transcribe(reply)
        self.printer(f"you (heard): {answer.text or '<nothing>'}")
        if _YES.match(answer.text):
            self.last_transcript = heard
            return heard.text
        self.last_transcript = answer
        if not answer.text or _NO.match(answer.text) and len(answer.text.split()) <= 2:
            return ""
        return answer.text
