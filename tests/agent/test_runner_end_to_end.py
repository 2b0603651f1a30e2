"""End to end through sim, perception, grounder, agent graph and simulated person."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agent.report import load_report
from agent.runner import RunConfig, run_all
from agent.scenario import load_scenarios
from agent.suites import SUITES, make_scenario

BUNDLED = Path(__file__).resolve().parents[2] / "scenarios"
FAST = RunConfig(consistency="off")  # the default executor (the learned policy); 96 px: at 64 px small cubes read as cylinders


def test_folder_with_a_bad_file_runs_the_rest_and_reports_everything(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for name in ("two-red-cubes.yaml", "unknown-object.yaml"):
        shutil.copy(BUNDLED / name, folder / name)
    (folder / "bad.yaml").write_text((BUNDLED / "unambiguous-pick.yaml").read_text().replace("pick: ball", "pick: zebra"))
    loaded = load_scenarios([folder])
    report = run_all(loaded.scenarios, loaded.errors, FAST, tmp_path / "run")

    rows = {e.name: e for e in report.episodes}
    assert "user.intent.pick: 'zebra' is not an object in the scene" in rows["unambiguous-pick"].error
    red = rows["two-red-cubes"]
    assert red.error is None and red.passed and red.success and red.asked == 1 and red.acted_on == "a"
    assert red.questions and "right" in red.questions[0] and red.steps > 0
    absent = rows["unknown-object"]
    assert absent.passed and not absent.success and absent.moved == [] and absent.acted_on is None
    assert report.summary.episodes == 3 and report.summary.passed == 2 and report.summary.errors == 1

    saved = json.loads((tmp_path / "run" / "report.json").read_text())
    assert set(saved["summary"]) >= {"episodes", "passed", "success_rate", "ask_rate", "unneeded_asks", "missed_asks"}
    assert load_report(tmp_path / "run" / "report.json") == report
    transcript = Path(red.transcript).read_text().splitlines()
    kinds = [json.loads(line)["kind"] for line in transcript]
    assert {"utterance", "question", "answer", "decision", "outcome"} <= set(kinds)


def test_episodes_command_writes_the_report(tmp_path: Path) -> None:
    from main import main

    out = tmp_path / "out.json"
    code = main(["episodes", str(BUNDLED / "unambiguous-pick.yaml"), "--report", str(out), "--run-dir",
                 str(tmp_path / "run"), "--no-progress", "--consistency", "off"])
    data = json.loads(out.read_text())
    assert code == 0 and data["summary"] == {**data["summary"], "episodes": 1, "passed": 1}


@pytest.mark.slow
def test_every_suite_runs_without_errors(tmp_path: Path) -> None:
    scenarios = [make_scenario(name, seed) for name in sorted(SUITES) for seed in range(4)]
    report = run_all(scenarios, [], FAST, tmp_path / "run", workers=2)
    assert report.summary.errors == 0, [e.error for e in report.episodes if e.error]
    assert report.summary.passed >= 0.6 * len(scenarios)  # the learned policy: 75-100 % a suite (RESULTS.md)


@pytest.mark.slow
@pytest.mark.audio
def test_a_spoken_person_is_heard_through_tts_and_whisper(tmp_path: Path) -> None:
    loaded = load_scenarios([BUNDLED / "voice"])
    lines: list[tuple[str, str]] = []
    report = run_all(loaded.scenarios, loaded.errors, FAST, tmp_path / "run", on_line=lambda w, t: lines.append((w, t)))
    assert len(report.episodes) == len(loaded.scenarios) >= 1
    for episode in report.episodes:  # each bundled spoken scenario (clean and noisy voices)
        assert episode.error is None and episode.passed, episode.message
    assert list((tmp_path / "run" / "audio").rglob("person_*.wav"))
