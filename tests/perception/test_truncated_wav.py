"""A truncated WAV is read with a warning that says how much is missing (issue 28, defect 9)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from perception.speech.audio import Audio, read_wav, write_wav


def _truncated(tmp_path: Path) -> Path:
    path = write_wav(tmp_path / "a.wav", Audio(np.zeros(16000, np.float32), 16000))  # 1.00 s
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def test_a_whole_wav_has_no_warning(tmp_path: Path) -> None:
    assert read_wav(write_wav(tmp_path / "a.wav", Audio(np.zeros(800, np.float32), 16000))).warnings == ()


def test_a_truncated_wav_is_read_with_a_warning(tmp_path: Path) -> None:
    audio = read_wav(_truncated(tmp_path))
    assert 0.4 < audio.duration_s < 0.6
    assert len(audio.warnings) == 1 and "truncated WAV: its data chunk declares 1.00 s" in audio.warnings[0]


def test_a_wav_cut_inside_its_header_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", Audio(np.zeros(800, np.float32), 16000))
    path.write_bytes(path.read_bytes()[:26])
    with pytest.raises(ValueError, match=f"{path}: truncated WAV"):
        read_wav(path)


def test_transcribe_warns_about_a_truncated_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from perception.commands import transcribe
    from perception.speech import stt

    class Heard:
        text, avg_logprob, no_speech_prob = "hello", 0.0, 0.0

    class Stub:
        def __init__(self, config: object) -> None:
            pass

        def transcribe(self, audio: Audio) -> Heard:
            return Heard()

    monkeypatch.setattr(stt, "WhisperTranscriber", Stub)
    path = _truncated(tmp_path)
    parser = argparse.ArgumentParser()
    transcribe.add_arguments(parser)
    assert transcribe.run(parser.parse_args([str(path)])) == 0
    out = capsys.readouterr()
    assert out.out == f"{path}\thello\n"
    assert out.err.startswith(f"warning: {path}: truncated WAV") and out.err.count("\n") == 1
