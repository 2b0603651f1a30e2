"""``kill -9`` a session, resume it by id alone: same table, dialogue, transcript and SQLite state
intact, no control step twice, and a cut motion is told (issue 28, defects 1 and 8)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks.kill_harness import TWO_RED_CUBES, check_resume, run_child, snapshot

#: Graph nodes a scripted expert session reaches, with the utterances that reach them.
NODE_CASES = [
    ("listen:1", ["pick up the red cube"]), ("perceive:1", ["pick up the red cube"]),
    ("ground:1", ["pick up the red cube"]), ("decide:1", ["pick up the red cube"]),
    ("clarify:1", ["pick up the red cube"]), ("ground:2", ["pick up the red cube"]),
    ("act:1", ["pick up the red cube"]), ("verify:1", ["pick up the red cube"]),
    ("report:1", ["pick up the red cube"]), ("refuse:1", ["pick up the purple elephant"]),
    ("put_back:1", ["pick up the red cube", "no, the other one"]),
]


def _kill_and_resume(tmp_path: Path, kill: list[str], say: list[str]) -> tuple[object, object, object, object]:
    scene = tmp_path / "scene.yaml"
    scene.write_text(TWO_RED_CUBES)
    runs = tmp_path / "runs"
    killed = run_child(["--run-dir", str(runs), "--session-id", "s1", "--scene", str(scene), *kill, "--say", *say])
    assert killed.code == -9, killed.stderr
    before = snapshot(runs / "s1", "s1")
    resumed = run_child(["--run-dir", str(runs), "--session-id", "s1"])  # the id (and where runs go) only
    assert resumed.code == 0, resumed.stderr
    return killed, before, resumed, snapshot(runs / "s1", "s1")


def test_a_session_killed_mid_motion_resumes_on_its_table_and_says_the_motion_was_cut(tmp_path: Path) -> None:
    _, before, resumed, after = _kill_and_resume(tmp_path, ["--kill-step", "45"], ["put the red cube in the green bowl"])
    assert check_resume(before, after) == []
    record = json.loads((tmp_path / "runs" / "s1" / "session.json").read_text())
    assert [o["id"] for o in record["scene"]["objects"]] == ["a", "b", "c"] and record["settings"]["policy"] == "expert"
    assert "On the table: small red cube, small red cube, medium green bowl." in " ".join(resumed.shown)
    told = [line for line in resumed.shown if "cut" in line]
    assert told and "put the red cube in the green bowl" in told[0] and "after 44 control steps" in told[0]
    assert "Now I see a red cube" in told[0]
    assert after.dialogue[-1].startswith("robot: I was shut down in the middle of a motion")
    # the cube the motion carried stands where the motion left it, not where the scene began
    start = {o["id"]: o["position"] for o in record["scene"]["objects"]}
    moved = [k for k, p in record["poses"].items() if math.dist(p["position"][:2], start[k]) > 0.02]
    assert moved == ["a"]  # "the one on the right" as the person sees it: +y
    seen = next(e for e in after.events if "recovered_from" in e["data"])["data"]["objects"]
    cube = min(seen, key=lambda o: math.dist(o["position"][:2], record["poses"]["a"]["position"][:2]))
    assert math.dist(cube["position"][:2], record["poses"]["a"]["position"][:2]) < 0.03
    assert math.dist(cube["position"][:2], start["a"]) > 0.02


@pytest.mark.slow
@pytest.mark.parametrize("kill,say", NODE_CASES, ids=[c[0] for c in NODE_CASES])
def test_a_kill_at_any_node_resumes_intact(tmp_path: Path, kill: str, say: list[str]) -> None:
    _, before, resumed, after = _kill_and_resume(tmp_path, ["--kill-node", kill], say)
    assert check_resume(before, after) == []


@pytest.mark.slow
@pytest.mark.parametrize("step", [1, 15, 30, 50])
def test_a_kill_at_any_control_step_resumes_intact(tmp_path: Path, step: int) -> None:
    _, before, resumed, after = _kill_and_resume(tmp_path, ["--kill-step", str(step)],
                                                 ["put the red cube in the green bowl"])
    assert check_resume(before, after) == []
    if step == 1:  # killed before its first step was sent: nothing moved, so the motion runs now
        assert not any("was cut" in line for line in resumed.shown) and after.events[-1]["kind"] == "outcome"
    else:
        assert any(f"was cut after {step - 1} control steps" in line for line in resumed.shown)
