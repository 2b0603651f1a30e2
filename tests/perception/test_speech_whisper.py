"""Whisper end to end: packaged weights converted, synthetic commands heard right, silence ignored.

Each whisper call is ~0.3-1 s on an idle 2-core CPU; the model is loaded once per test session.
"""

from __future__ import annotations

import numpy as np
import pytest

from perception.speech.audio import Audio, write_wav
from perception.speech.wer import normalize_text

pytestmark = pytest.mark.audio

COMMAND = "pick up the red cube"


@pytest.fixture(scope="module")
def transcriber():
    import torch

    from perception.speech.stt import WhisperTranscriber

    torch.set_num_threads(1)  # the cores are shared; one thread is fastest under load
    stt = WhisperTranscriber()
    stt.model  # noqa: B018 (load once for the module)
    return stt


@pytest.fixture(scope="module")
def synth():
    from perception.speech.synthesize import VoiceSynthesizer

    return VoiceSynthesizer()


def test_converted_checkpoint_loads_in_whisper(tmp_path):
    import torch
    import whisper

    from perception.speech.ct2_convert import convert
    from perception.speech.models import embedded_ct2_dir

    path = convert(embedded_ct2_dir(), tmp_path / "tiny.pt")
    model = whisper.load_model(str(path), device="cpu")
    assert model.dims.n_vocab == 51864 and not model.is_multilingual  # tiny.en
    assert torch.load(path, weights_only=True)["alignment_heads"]


@pytest.mark.parametrize("voice, snr_db", [("piper", None), ("espeak", None), ("piper", 20.0), ("espeak", 20.0)])
def test_spoken_command_is_transcribed_exactly(transcriber, synth, voice, snr_db):
    heard = transcriber.transcribe(synth.synthesize(COMMAND, voice=voice, snr_db=snr_db, seed=0))
    assert normalize_text(heard.text) == COMMAND
    assert heard.no_speech_prob < 0.5


def test_silence_and_noise_give_empty_text(transcriber):
    assert transcriber.transcribe(Audio.silence(2.0)).text == ""
    noise = np.random.default_rng(0).normal(0, 0.02, 32_000).astype(np.float32)
    assert transcriber.transcribe(Audio(noise, 16_000)).text == ""
    assert transcriber.transcribe(Audio(np.zeros(0, np.float32), 16_000)).text == ""


def test_transcribe_command_prints_path_tab_text(tmp_path, synth, capsys):
    from main import main

    wav = write_wav(tmp_path / "cmd.wav", synth.synthesize(COMMAND, voice="piper").resampled(44_100))
    silent = write_wav(tmp_path / "quiet.wav", Audio.silence(1.0, 8_000))
    assert main(["transcribe", str(wav), str(silent), "--threads", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t")[0] == str(wav) and normalize_text(lines[0].split("\t")[1]) == COMMAND
    assert lines[1] == f"{silent}\t"


@pytest.mark.slow
def test_clip_longer_than_whisper_window_keeps_every_command(transcriber, synth):
    said = ["pick up the red cube", "the one on the left", "no, the other one", "stop"] * 3
    parts = []
    for text in said:
        parts += [synth.synthesize(text, voice="piper"), Audio.silence(2.0)]
    clip = Audio.concat(parts)
    assert clip.duration_s > 30.0
    heard = transcriber.transcribe(clip)
    assert normalize_text(heard.text) == normalize_text(" ".join(said))
