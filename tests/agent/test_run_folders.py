"""Runs never share a folder or overwrite each other's report (issue 28, defect 3)."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from agent.run_folder import CLAIM_FILE, RunDirInUse, claim_run_dir, new_run_dir

BUNDLED = Path(__file__).resolve().parents[2] / "scenarios"


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path: Path) -> None:
    folders = {new_run_dir(tmp_path) for _ in range(50)}
    assert len(folders) == 50 and all(f.is_dir() and (f / CLAIM_FILE).exists() for f in folders)


def _claim(args: tuple[str, int]) -> str:
    try:
        return str(claim_run_dir(Path(args[0])))
    except RunDirInUse as exc:
        return f"refused: {exc}"


def test_two_processes_racing_for_one_run_dir_one_wins_the_other_is_told(tmp_path: Path) -> None:
    target = str(tmp_path / "shared")
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        outcomes = pool.map(_claim, [(target, i) for i in range(4)])
    assert sum(not o.startswith("refused") for o in outcomes) == 1
    assert all("already used by the run started" in o for o in outcomes if o.startswith("refused"))


def test_a_second_episodes_run_into_the_same_run_dir_is_refused_and_the_first_report_kept(tmp_path: Path,
                                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from main import main

    run = tmp_path / "run"
    args = ["episodes", str(BUNDLED / "unambiguous-pick.yaml"), "--run-dir", str(run), "--no-progress",
            "--policy", "expert", "--consistency", "off", "--calibration", "off"]
    assert main(args) == 0
    first = (run / "report.json").read_text()
    assert main(args) == 2
    said = capsys.readouterr().out.strip().splitlines()[-1]
    assert said.startswith(f"--run-dir {run}: already used by the run started") and "give a new folder" in said
    assert (run / "report.json").read_text() == first and json.loads(first)["summary"]["episodes"] == 1


def test_an_old_run_dir_with_a_report_but_no_claim_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text("{}")
    with pytest.raises(RunDirInUse, match="already holds a report.json"):
        claim_run_dir(tmp_path)
    assert not (tmp_path / CLAIM_FILE).exists()
