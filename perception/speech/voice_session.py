"""Wire a `SpeechChannel` for an interactive session from a few options, with clear fallbacks.

`open_voice_channel(VoiceOptions(...))`:
- input: the default microphone (energy VAD), or scripted WAV files (`audio_in`);
- output: piper (else espeak-ng) to the speaker; to WAV files in `audio_out` when given or when
  there is no speaker; printed only when no TTS backend works;
- a background listener on the microphone feeds spoken interjections ("stop") to the agent.
Raises `AudioUnavailable` (no microphone and no scripted input) or `ModelUnavailable` (no whisper
weights): the caller falls back to the text channel with that message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from perception.speech.audio_io import (AudioSink, AudioSource, AudioUnavailable, NullSink, ScriptedAudioSource,
                                        WavDirSink, open_microphone, open_speaker)
from perception.speech.channel import ChannelConfig, SpeechChannel
from perception.speech.interjections import VoiceInterjections
from perception.speech.models import EMBEDDED_MODEL
from perception.speech.stt import SttConfig, WhisperTranscriber
from perception.speech.tts import TtsBackend, TtsUnavailable, default_tts
from perception.speech.confirmation import CorrectionMeaning
from perception.speech.understanding import CommandReader


@dataclass(frozen=True)
class VoiceOptions:
    """What the voice channel uses; every field has a working offline default."""

    # scripted WAV files said in order instead of the microphone (empty: microphone)
    audio_in: tuple[Path, ...] = ()
    # save the robot's speech as WAV files here (None: play on the speaker)
    audio_out: Path | None = None
    # preferred TTS backend name; the others of the registry are tried after it
    tts: str = "piper"
    # whisper model spec (see perception.speech.models)
    whisper_model: str = EMBEDDED_MODEL
    # decoder LoRA for it ("default": the committed one for tiny.en; "none": whisper as shipped)
    speech_adapter: str = "default"
    # read doubtful transcripts back ("did you say ...?") before using them
    confirm: bool = True
    # record while a key (space) is held instead of waiting for the voice detector's end of speech
    push_to_talk: bool = False
    # read what was heard against the scene and the question (n-best rescoring, sound-alike repairs)
    understand: bool = True
    # what a correction means (`agent.interjection.correction_meaning`, passed in by the agent)
    correction_meaning: CorrectionMeaning | None = None
    channel: ChannelConfig = field(default_factory=ChannelConfig)


def _tts(preferred: str, say: Callable[[str], None]) -> TtsBackend | None:
    try:
        return default_tts((preferred, *[n for n in ("piper", "espeak") if n != preferred]))
    except TtsUnavailable as exc:
        say(f"[voice] {exc}; the robot's words are printed only")
        return None


def _sink(options: VoiceOptions, say: Callable[[str], None]) -> AudioSink:
    if options.audio_out is not None:
        return WavDirSink(options.audio_out)
    try:
        return open_speaker()
    except AudioUnavailable as exc:
        say(f"[voice] {exc}; the robot's words are printed only")
        return NullSink()


def open_voice_channel(options: VoiceOptions = VoiceOptions(), printer: Callable[[str], None] = print) -> SpeechChannel:
    """A ready SpeechChannel (whisper loaded), or AudioUnavailable / ModelUnavailable."""
    if options.audio_in:
        source: AudioSource = ScriptedAudioSource(options.audio_in)
    elif options.push_to_talk:
        from perception.speech.push_to_talk import open_push_to_talk

        source = open_push_to_talk()
    else:
        source = open_microphone()
    transcriber = WhisperTranscriber(SttConfig(model=options.whisper_model, adapter=options.speech_adapter))
    transcriber.model  # noqa: B018 (load now: a missing model must surface before the session starts)
    reader = CommandReader(correction_meaning=options.correction_meaning) if options.understand else None
    config = ChannelConfig(**{**options.channel.__dict__, "confirm": options.confirm})
    channel = SpeechChannel(source, transcriber, _tts(options.tts, printer), _sink(options, printer), config,
                            printer, reader=reader)
    # A scripted source is not shared with a background listener (it would eat the script).
    if not options.audio_in:
        channel.interjections = VoiceInterjections(source, transcriber, reader=reader,
                                                   vocabulary=lambda: channel.vocabulary)
    return channel
