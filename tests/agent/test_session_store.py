"""Session folders: found by id alone, written atomically, a broken record named by file and
field (issue 28, defect 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.session_store import (RECORD_FILE, SessionError, SessionSettings, find_session, load_record,
                                 new_record, save_record)
from sim.scene import SceneSpec

SCENE = SceneSpec.model_validate({"objects": [{"id": "a", "shape": "cube", "color": "red", "position": [0.55, 0.1]}]})
SETTINGS = SessionSettings(policy="expert", checkpoint="checkpoints/vla", image_size=96)


def test_a_session_is_found_by_id_alone_anywhere_under_runs(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    folder = root / "20261207-101010-abc123" / "sessions" / "s-42"
    save_record(folder, new_record("s-42", SCENE, SETTINGS))
    assert find_session("s-42", None, root) == folder
    assert find_session("s-43", None, root) is None
    record = load_record(folder)
    assert record.scene == SCENE and record.settings == SETTINGS
    assert [p.name for p in folder.iterdir()] == [RECORD_FILE]  # no temp file left behind


def test_the_given_run_dir_is_looked_in_first(tmp_path: Path) -> None:
    mine, other = tmp_path / "mine", tmp_path / "runs" / "old"
    save_record(other / "s1", new_record("s1", SCENE, SETTINGS))
    save_record(mine / "s1", new_record("s1", SCENE, SETTINGS))
    assert find_session("s1", mine, tmp_path / "runs") == mine / "s1"


def test_a_broken_record_is_one_line_with_file_and_field(tmp_path: Path) -> None:
    save_record(tmp_path / "s1", new_record("s1", SCENE, SETTINGS))
    path = tmp_path / "s1" / RECORD_FILE
    path.write_text(path.read_text().replace('"red"', '"teal"'))
    with pytest.raises(SessionError, match=rf"^{path}: scene\.objects\.0\.color: unknown colour 'teal'"):
        load_record(tmp_path / "s1")
