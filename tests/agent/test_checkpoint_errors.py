"""A corrupt or incomplete checkpoint is one line naming the file, with no traceback before it
(issue 28, defect 7)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from main import main

ROOT = Path(__file__).resolve().parents[2]


def _one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in captured.out + captured.err, err
    return err[0]


@pytest.fixture
def corrupt_vla(tmp_path: Path) -> Path:
    folder = tmp_path / "vla"
    shutil.copytree(ROOT / "checkpoints" / "vla", folder)
    (folder / "model.safetensors").write_bytes((ROOT / "checkpoints" / "vla" / "model.safetensors").read_bytes()[:999])
    return folder


def test_eval_with_a_corrupt_checkpoint_is_one_line_naming_the_weights(capsys: pytest.CaptureFixture[str],
                                                                        corrupt_vla: Path) -> None:
    line = _one_line_error(capsys, ["eval", "--checkpoint", str(corrupt_vla), "--episodes", "1"])
    assert f"{corrupt_vla / 'model.safetensors'} is corrupt" in line


def test_session_with_an_incomplete_checkpoint_is_one_line_naming_the_file(tmp_path: Path, corrupt_vla: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    (corrupt_vla / "config.json").unlink()
    line = _one_line_error(capsys, ["session", "--checkpoint", str(corrupt_vla), "--no-consistency",
                                    "--run-dir", str(tmp_path / "runs")])
    assert f"{corrupt_vla / 'config.json'} is missing" in line


def test_a_binary_siglip_config_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "siglip"
    shutil.copytree(ROOT / "checkpoints" / "siglip", folder)
    (folder / "config.json").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    line = _one_line_error(capsys, ["session", "--policy", "expert", "--siglip", str(folder),
                                    "--run-dir", str(tmp_path / "runs")])
    assert f"{folder / 'config.json'}: not a UTF-8 text file" in line
