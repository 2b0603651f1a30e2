"""SpeechChannel and the interjection listener with scripted audio and a stand-in transcriber."""

from __future__ import annotations

import time

import numpy as np

from perception.speech.audio import Audio
from perception.speech.audio_io import AudioSink, ScriptedAudioSource
from perception.speech.channel import ChannelConfig, SpeechChannel
from perception.speech.interjections import VoiceInterjections, is_stop
from perception.speech.stt import Transcript
from perception.speech.tts import TtsBackend


class ScriptedTranscriber:
    """Returns queued transcripts in order (stands in for whisper)."""

    def __init__(self, transcripts: list[Transcript]) -> None:
        self.transcripts = list(transcripts)
        self.heard: list[Audio] = []

    def transcribe(self, audio: Audio) -> Transcript:
        self.heard.append(audio)
        return self.transcripts.pop(0)


class BeepTts(TtsBackend):
    def synthesize(self, text: str) -> Audio:
        return Audio(np.full(len(text) * 10, 0.1, np.float32), 16_000)


class RecordingSink(AudioSink):
    def __init__(self) -> None:
        self.texts: list[str] = []

    def play(self, audio: Audio, text: str = "") -> None:
        self.texts.append(text)


def clips(n: int) -> list[Audio]:
    return [Audio(np.zeros(1600, np.float32), 16_000) for _ in range(n)]


def test_robot_lines_are_spoken_and_status_lines_only_printed():
    printed, sink = [], RecordingSink()
    channel = SpeechChannel(ScriptedAudioSource([]), ScriptedTranscriber([]), BeepTts(), sink, printer=printed.append)
    channel.say("robot: I will pick up the red cube.")
    channel.say("  [robot sees] a red cube, a green bowl")
    assert sink.texts == ["I will pick up the red cube."]
    assert printed == ["robot: I will pick up the red cube.", "  [robot sees] a red cube, a green bowl"]


def test_ask_speaks_the_question_and_returns_the_heard_reply():
    sink = RecordingSink()
    stt = ScriptedTranscriber([Transcript("The one on the left.", -0.1, 0.01)])
    channel = SpeechChannel(ScriptedAudioSource(clips(1)), stt, BeepTts(), sink, printer=lambda s: None)
    assert channel.ask("robot asks: Which red cube?") == "The one on the left."
    assert sink.texts == ["Which red cube?"]
    assert channel.last_transcript.confidence > 0.8 and not channel.needs_confirmation()


def test_silence_gives_empty_text_and_end_of_script_gives_none():
    stt = ScriptedTranscriber([Transcript("")])
    channel = SpeechChannel(ScriptedAudioSource(clips(1)), stt, printer=lambda s: None)
    assert channel.ask("") == ""  # the caller asks again
    assert channel.ask("") is None  # the person has left


def test_doubtful_transcript_is_read_back_before_use():
    doubtful = Transcript("pick up the rat cube", avg_logprob=-1.3, no_speech_prob=0.1)
    cases = [
        ([doubtful, Transcript("Yes.", -0.1, 0.0)], "pick up the rat cube"),
        ([doubtful, Transcript("No.", -0.1, 0.0)], ""),
        ([doubtful, Transcript("Pick up the red cube.", -0.1, 0.0)], "Pick up the red cube."),
    ]
    for transcripts, expected in cases:
        sink = RecordingSink()
        channel = SpeechChannel(ScriptedAudioSource(clips(2)), ScriptedTranscriber(transcripts), BeepTts(), sink,
                                ChannelConfig(confirm=True), printer=lambda s: None)
        assert channel.listen() == expected
        assert sink.texts == ['Did you say "pick up the rat cube"?']


def test_interjection_listener_queues_what_is_said_without_blocking():
    stt = ScriptedTranscriber([Transcript(""), Transcript("Stop!", -0.2, 0.0)])
    halted = []
    listener = VoiceInterjections(ScriptedAudioSource(clips(2)), stt, on_heard=halted.append)
    with listener:
        deadline = time.monotonic() + 5.0
        said = None
        while said is None and time.monotonic() < deadline:
            said = listener.poll(step=1)
            time.sleep(0.01)
    assert said == "Stop!" and is_stop(said) and halted == ["Stop!"]
    assert listener.poll(step=2) is None
    assert not is_stop("no, the other one")
