"""A session killed between two steps of a plan resumes at the step not done, never redoing one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.kill_harness import TWO_RED_CUBES, check_resume, run_child, snapshot


@pytest.mark.slow
@pytest.mark.parametrize("kill", ["plan_step:1", "perceive:2", "ground:2"])
def test_a_kill_between_two_steps_resumes_without_redoing_a_step(tmp_path: Path, kill: str) -> None:
    scene = tmp_path / "scene.yaml"
    scene.write_text(TWO_RED_CUBES)
    runs = tmp_path / "runs"
    say = ["put all the red cubes in the green bowl"]
    killed = run_child(["--run-dir", str(runs), "--session-id", "s1", "--scene", str(scene), "--kill-node", kill,
                        "--say", *say])
    assert killed.code == -9, killed.stderr
    before = snapshot(runs / "s1", "s1")
    started = [e["data"]["step"] for e in before.events if e["kind"] == "plan_step"]
    assert started[0] == 1 and any(e["kind"] == "outcome" and e["text"].startswith("Done (") for e in before.events)
    last_outcome = max(x["seq"] for x in before.events if x["kind"] == "outcome")
    # Step 2 had not moved (the hand going home between the steps is not step 2's motion).
    assert not any(e["kind"] == "action" and e["text"] != "home" for e in before.events if e["seq"] > last_outcome)
    resumed = run_child(["--run-dir", str(runs), "--session-id", "s1"])
    assert resumed.code == 0, resumed.stderr
    after = snapshot(runs / "s1", "s1")
    assert check_resume(before, after) == []
    starts = [(e["data"]["step"], e["data"]["attempt"]) for e in after.events if e["kind"] == "plan_step"]
    # Step 1 (done before the kill) never again; no start of a step twice (a second attempt is
    # the one retry of a step that failed, said as such).
    assert [s for s in starts if s[0] == 1] == [(1, 1)] and len(set(starts)) == len(starts)
    assert [s for s in starts if s[0] == 2][0] == (2, 1)
    outcome = [e for e in after.events if e["kind"] == "outcome"][-1]
    assert outcome["data"]["plan"] == [{"step": "the red cube on the right", "status": "done"},
                                       {"step": "the red cube on the left", "status": "done"}]
    record = json.loads((runs / "s1" / "session.json").read_text())
    bowl = next(o for o in record["scene"]["objects"] if o["id"] == "c")["position"]
    for cube in ("a", "b"):  # both cubes ended in the bowl, each carried there once
        x, y = record["poses"][cube]["position"][:2]
        assert abs(x - bowl[0]) < 0.07 and abs(y - bowl[1]) < 0.07
