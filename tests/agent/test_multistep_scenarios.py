"""Multi-step requests on the real simulator: the plan is said, every step is done (in order
when the person gave one), a mid-plan "skip the blue one" is honoured, and a session killed
between two steps resumes without doing a step twice.

Real PyBullet sim, perception, calibrated grounder and the agent graph with its SQLite
checkpointer; the scripted expert moves the arm (fast); the simulated person answers and
interjects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.report import EpisodeResult
from agent.runner import RunConfig, run_scenario
from agent.scenario import Scenario

EXPERT = RunConfig(consistency="off", policy="expert")
# Three small objects of distinct kinds, two look-alike red cubes and a large green bowl; the
# matching tests add a red and a blue bowl.
OBJECTS = [
    {"id": "r1", "shape": "cube", "color": "red", "size": "small", "position": [0.60, 0.18]},
    {"id": "r2", "shape": "cube", "color": "red", "size": "small", "position": [0.62, -0.18]},
    {"id": "b", "shape": "cube", "color": "blue", "size": "small", "position": [0.38, 0.20]},
    {"id": "y", "shape": "ball", "color": "yellow", "size": "small", "position": [0.36, -0.20]},
    {"id": "g", "shape": "bowl", "color": "green", "size": "large", "position": [0.48, 0.0]},
]


def _run(tmp_path: Path, instruction: str, intents: list[dict[str, Any]], objects: list[dict[str, Any]] = OBJECTS,
         **user: Any) -> EpisodeResult:
    scenario = Scenario.model_validate({
        "name": "multistep", "scene": {"objects": objects}, "instruction": instruction,
        "user": {"intent": intents, **user}, "expect": {"success": True, "ask": False},
    })
    result = run_scenario(scenario, EXPERT, tmp_path, seed=0)
    assert result.error is None, result.error
    return result


def _events(result: EpisodeResult) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(str(result.transcript)).read_text().splitlines()]


def _said(result: EpisodeResult, kind: str = "say") -> list[str]:
    return [e["text"] for e in _events(result) if e["kind"] == kind]


def _into_g(*picks: str) -> list[dict[str, Any]]:
    return [{"pick": p, "place": "g"} for p in picks]


def test_a_conjunction_does_both_and_says_the_plan_first(tmp_path: Path) -> None:
    result = _run(tmp_path, "put the blue cube and the yellow ball in the green bowl", _into_g("b", "y"))
    assert result.passed and (result.steps_done, result.steps_total) == (2, 2)
    assert _said(result, "plan") == ["I'll do two things: the blue cube, then the yellow ball, each into the green bowl."]
    assert _said(result, "outcome")[-1] == "Done: the blue cube and the yellow ball (all of it)."
    assert sorted(result.moved) == ["b", "y"]


@pytest.mark.slow
def test_all_the_red_cubes_moves_both_and_nothing_else(tmp_path: Path) -> None:
    result = _run(tmp_path, "put all the red blocks in the green bowl", _into_g("r1", "r2"))
    assert result.passed and result.steps_done == 2 and result.asked == 0
    assert sorted(result.moved) == ["r1", "r2"]


@pytest.mark.slow
def test_a_sequence_is_done_in_the_order_said(tmp_path: Path) -> None:
    result = _run(tmp_path, "first the yellow ball, then the blue cube, into the green bowl", _into_g("y", "b"),
                  ordered=True)
    assert result.passed and result.steps_done == 2
    starts = [e["text"] for e in _events(result) if e["kind"] == "plan_step"]
    assert starts == ["put the yellow ball in the green bowl", "put the blue cube in the green bowl"]


@pytest.mark.slow
def test_matching_puts_each_block_in_the_bowl_of_its_colour(tmp_path: Path) -> None:
    objects = [
        {"id": "r1", "shape": "cube", "color": "red", "size": "small", "position": [0.62, 0.2]},
        {"id": "b", "shape": "cube", "color": "blue", "size": "small", "position": [0.38, 0.2]},
        {"id": "rb", "shape": "bowl", "color": "red", "size": "medium", "position": [0.60, -0.15]},
        {"id": "bb", "shape": "bowl", "color": "blue", "size": "medium", "position": [0.40, -0.15]},
    ]
    result = _run(tmp_path, "put each block in the bowl of its colour",
                  [{"pick": "r1", "place": "rb"}, {"pick": "b", "place": "bb"}], objects=objects)
    assert result.passed and result.steps_done == 2


@pytest.mark.slow
def test_skip_the_blue_one_mid_plan_drops_that_step_and_leaves_it(tmp_path: Path) -> None:
    result = _run(tmp_path, "put the yellow ball, the blue cube and the red cube on the left in the green bowl",
                  _into_g("y", "r2"), interjections=[{"after_step": 15, "say": "skip the blue one"}])
    assert result.passed and result.steps_done == 2 and "b" not in result.moved
    said = _said(result)
    assert "Okay, I'll skip the blue cube." in said
    assert _said(result, "outcome")[-1] == ("Done: the yellow ball and the red cube on the left. "
                                            "I skipped the blue cube, as you said.")
    assert not any(e["kind"] == "plan_step" and "blue" in e["text"] for e in _events(result))


@pytest.mark.slow
def test_stop_inside_a_step_halts_the_arm_and_ends_the_whole_plan(tmp_path: Path) -> None:
    scenario = Scenario.model_validate({
        "name": "multistep-stop", "scene": {"objects": OBJECTS},
        "instruction": "put the blue cube and the yellow ball in the green bowl",
        "user": {"intent": _into_g("b", "y"), "interjections": [{"after_step": 20, "say": "stop"}]},
        "expect": {"success": False, "ask": False},
    })
    result = run_scenario(scenario, EXPERT, tmp_path, seed=0)
    assert result.error is None and result.status == "stopped" and result.steps_done == 0
    assert "y" not in result.moved
    assert [e["text"] for e in _events(result) if e["kind"] == "plan_step"] == ["put the blue cube in the green bowl"]


@pytest.mark.slow
def test_an_ambiguous_step_is_asked_about_once_before_anything_moves(tmp_path: Path) -> None:
    scenario = Scenario.model_validate({
        "name": "multistep-ask", "scene": {"objects": OBJECTS},
        "instruction": "put the yellow ball and the red cube in the green bowl",
        "user": {"intent": _into_g("y", "r2")}, "expect": {"success": True, "ask": {"min": 1, "max": 1}},
    })
    result = run_scenario(scenario, EXPERT, tmp_path, seed=0)
    assert result.error is None and result.passed and result.steps_done == 2
    events = _events(result)
    asked = [e for e in events if e["kind"] == "question"]
    assert len(asked) == 1 and asked[0]["text"].startswith("Before I start: ")
    first_action = next(e["seq"] for e in events if e["kind"] == "action")
    assert asked[0]["seq"] < first_action and sorted(result.moved) == ["r2", "y"]
