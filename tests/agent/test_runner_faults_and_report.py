"""Runner pieces a user relies on: perception faults behave as the scenario says, pass/fail
follows ``expect``, the report summary counts unneeded and missed questions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from agent.report import EpisodeResult, build_report, error_result, format_table, load_report
from agent.runner import FaultyPerception, apply_faults, judge
from agent.scenario import Expect, Fault, ScenarioError
from agent.suites import make_scenario
from perception.types import PerceivedObject, SceneObservation

TRUTH = {"a": np.array([0.55, 0.12, 0.02]), "b": np.array([0.55, -0.12, 0.02])}


def _seen() -> SceneObservation:
    return SceneObservation(objects=[
        PerceivedObject(index=1, color="red", shape="cube", size="small", position=(0.55, 0.12, 0.02),
                        box=(10, 10, 20, 20), color_scores={"red": 0.9, "orange": 0.1}, sim_id="a"),
        PerceivedObject(index=2, color="red", shape="cube", size="small", position=(0.55, -0.12, 0.02),
                        box=(40, 10, 50, 20), color_scores={"red": 0.9, "orange": 0.1}, sim_id="b"),
    ])


def test_misperceived_colour_changes_only_that_object() -> None:
    out = apply_faults(_seen(), [Fault.model_validate({"type": "misperceive_color", "object": "a", "as": "orange"})], TRUTH)
    a, b = out.objects
    assert a.color == "orange" and max(a.color_scores, key=a.color_scores.get) == "orange"
    assert b.color == "red"


def test_occluded_object_disappears_and_the_rest_are_renumbered() -> None:
    out = apply_faults(_seen(), [Fault(type="occlude", object="a")], TRUTH)
    assert [(o.index, o.sim_id) for o in out.objects] == [(1, "b")]


def test_distractor_adds_an_unlabelled_phantom_nearby() -> None:
    out = apply_faults(_seen(), [Fault.model_validate({"type": "distractor", "object": "b", "as": "red"})], TRUTH)
    ghost = out.objects[-1]
    assert len(out.objects) == 3 and ghost.sim_id is None and ghost.index == 3
    assert 0.03 < abs(ghost.position[1] - (-0.12)) < 0.1


def test_a_second_look_clears_faults_unless_they_persist() -> None:
    fleeting = FaultyPerception(lambda obs: _seen(), [Fault(type="occlude", object="a")], lambda: TRUTH)
    assert len(fleeting({}).objects) == 1 and len(fleeting({}).objects) == 2
    stuck = FaultyPerception(lambda obs: _seen(), [Fault(type="occlude", object="a", persist=True)], lambda: TRUTH)
    assert len(stuck({}).objects) == 1 and len(stuck({}).objects) == 1


def test_pass_needs_success_and_questions_as_expected() -> None:
    amb = make_scenario("ambiguous", 0)
    assert judge(amb, success=True, asked=1, moved=["o1"], acted_on="o1")
    assert not judge(amb, success=True, asked=0, moved=["o1"], acted_on="o1")  # should have asked
    assert not judge(amb, success=False, asked=1, moved=[], acted_on=None)


def test_expected_failure_passes_only_if_the_table_was_left_alone() -> None:
    absent = make_scenario("infeasible", 0)
    assert judge(absent, success=False, asked=0, moved=[], acted_on=None)
    assert not judge(absent, success=False, asked=0, moved=["o0"], acted_on="o0")


def test_summary_counts_unneeded_and_missed_questions(tmp_path: Path) -> None:
    rows = [
        EpisodeResult(name="asked-needlessly", passed=False, success=True, asked=1, expect=Expect(success=True, ask=False)),
        EpisodeResult(name="never-asked", passed=False, success=False, asked=0, expect=Expect(success=True, ask=True)),
        EpisodeResult(name="fine", passed=True, success=True, asked=1, expect=Expect(success=True, ask=True)),
        error_result(ScenarioError("scenarios/bad.yaml", 2, "x", "user.intent.pick", "'z' is not an object in the scene")),
    ]
    report = build_report(rows)
    s = report.summary
    assert (s.episodes, s.passed, s.unneeded_asks, s.missed_asks, s.errors) == (4, 1, 1, 1, 1)
    assert s.success_rate == 0.5 and s.ask_rate == 0.5
    path = tmp_path / "out.json"
    report.write(path)
    data = json.loads(path.read_text())
    assert set(data) == {"episodes", "summary"}
    assert {"name", "passed", "success", "asked", "questions", "reperceptions", "steps", "duration_s", "error"} <= set(data["episodes"][0])
    assert data["episodes"][3]["error"] == "scenarios/bad.yaml: scenario 2 'x': user.intent.pick: 'z' is not an object in the scene"
    assert load_report(path) == report
    table = format_table(report)
    assert "never-asked" in table and "passed 1/4" in table
