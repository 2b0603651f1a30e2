"""No sound card: the voice session says why and carries on with the text channel."""

from __future__ import annotations

import argparse
import sys

import pytest

from perception.speech.audio_io import AudioUnavailable
from perception.speech.voice_session import VoiceOptions, open_voice_channel


def test_open_voice_channel_without_portaudio_raises_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    with pytest.raises(AudioUnavailable, match="libportaudio2"):
        open_voice_channel(VoiceOptions())


def test_session_voice_falls_back_to_text(monkeypatch, capsys):
    from agent.commands.session import TextChannel, add_arguments, voice_channel

    monkeypatch.setitem(sys.modules, "sounddevice", None)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    channel = voice_channel(parser.parse_args(["--voice"]))
    assert isinstance(channel, TextChannel)
    assert "falling back to the text channel" in capsys.readouterr().out
