"""`main.py session` with a bad scene file, colour or object count: one line naming the file and
field, no traceback; `--debug` shows the traceback (issue 28, defect 6 and the general rule)."""

from __future__ import annotations

from pathlib import Path

import pytest

from main import main

GOOD = "objects:\n  - {id: a, shape: cube, color: red, position: [0.55, 0.1]}\n"


def _session_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["session", "--policy", "expert", "--no-consistency", *args]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


@pytest.mark.parametrize("content,expected", [
    (None, "no such file"),
    (b"objects: [\n", "cannot read YAML"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not a UTF-8 text file"),
    (b"- 1\n- 2\n", "expected a scene mapping"),
    (GOOD.replace("red", "teal").encode(), "objects.0.color: unknown colour 'teal'"),
    (b"name: x\nscene: {objects: [{id: a, shape: cube, color: red, position: [0.55, 0.1]},"
     b" {id: b, shape: ball, color: red, position: [0.55, 0.1]}]}\n", "scene.objects: objects 'a' and 'b' overlap"),
])
def test_a_bad_scene_file_is_one_line_naming_the_file_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 content: bytes | None, expected: str) -> None:
    scene = tmp_path / "scene.yaml"
    if content is not None:
        scene.write_bytes(content)
    line = _session_error(capsys, "--scene", str(scene), "--run-dir", str(tmp_path / "runs"))
    assert line.startswith(f"error: {scene}: ") and expected in line


@pytest.mark.parametrize("n", ["0", "30", "-1"])
def test_an_impossible_object_count_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], n: str) -> None:
    line = _session_error(capsys, "--objects", n, "--run-dir", str(tmp_path))
    assert f"--objects {n}: a sampled scene holds 1 to 16 objects" in line


def test_a_session_id_that_would_escape_its_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = _session_error(capsys, "--session-id", "../../x", "--run-dir", str(tmp_path))
    assert "--session-id '../../x': use 1-80 letters" in line and not (tmp_path.parent / "x").exists()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    from agent.scene_file import SceneFileError

    with pytest.raises(SceneFileError, match="no such file"):
        main(["session", "--debug", "--scene", str(tmp_path / "none.yaml"), "--no-consistency"])
