"""Placements the learned policy never saw ("to the left of the cylinder") are composed from the
one it did ("in a bowl"): its PLACE box is steered to a stand-in bowl at the spot beside the
reference, and the object ends up there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.relation_spot import composes
from agent.runner import RunConfig, run_scenario
from agent.scenario import load_scenarios
from policy.model.cot_format import box_iou

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
VLA = RunConfig(consistency="off", policy="vla")


def _first_place_box(transcript: str) -> tuple[float, ...]:
    for line in Path(transcript).read_text().splitlines():
        event = json.loads(line)
        if event["kind"] == "reasoning" and event["data"]["reasoning"].get("place"):
            return tuple(event["data"]["reasoning"]["place"]["box"])
    raise AssertionError("the policy wrote no PLACE")


def _perceived_boxes(transcript: str) -> list[tuple[float, ...]]:
    """The first look's object boxes, as fractions of the 96-pixel image."""
    event = next(json.loads(line) for line in Path(transcript).read_text().splitlines()
                 if json.loads(line)["kind"] == "perception")
    return [tuple(v / 96 for v in o["box"]) for o in event["data"]["objects"]]


@pytest.mark.parametrize("name", ["relation-left-of", pytest.param("robot-viewpoint-right-of", marks=pytest.mark.slow)])
def test_the_learned_policy_puts_it_beside_the_reference(tmp_path: Path, name: str) -> None:
    scenario = next(s for s in load_scenarios([SCENARIOS], recursive=False).scenarios if s.name == name)
    result = run_scenario(scenario, VLA, tmp_path, seed=0)

    assert result.error is None and result.success and result.passed, result.message
    assert result.acted_on == scenario.user.intent.pick and result.moved == [scenario.user.intent.pick]
    # The PLACE box the actions read is the spot beside the reference, not the reference itself.
    place = _first_place_box(result.transcript)
    assert all(box_iou(place, box) < 0.3 for box in _perceived_boxes(result.transcript))


def test_learned_relations_and_put_backs_are_not_composed() -> None:
    class Target:
        pick, place, return_to, relation = object(), object(), None, "in"

    target = Target()
    assert not composes(target)
    target.relation = "on"
    assert not composes(target)
    target.relation = "left_of"
    assert composes(target)
    target.return_to = (0.5, 0.0, 0.02)
    assert not composes(target)
