"""'No, the other one' with the wrong object in the gripper (or already lifted): the robot puts
it back where it took it from, lifting straight up first, and then takes the other one."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from agent.runner import RunConfig, run_scenario
from agent.scenario import Expect, Scenario

EXPERT = RunConfig(consistency="off", policy="expert")  # the privileged expert's own put-back (it fetches from a bowl too)


def _scenario(after_step: int, place: bool = False) -> Scenario:
    bowl = [{"id": "c", "shape": "bowl", "color": "green", "position": [0.45, 0.0]}] if place else []
    return Scenario.model_validate({
        "name": f"put-back-{after_step}",
        "scene": {"objects": [
            {"id": "a", "shape": "cube", "color": "red", "size": "medium", "position": [0.55, -0.14]},
            {"id": "b", "shape": "cube", "color": "red", "size": "medium", "position": [0.55, 0.14]},
            *bowl,
        ]},
        # The person's left is -y: "a"; they meant "b".
        "instruction": "put the red cube on the left in the green bowl" if place else "pick up the red cube on the left",
        "user": {"intent": {"pick": "b", "place": "c" if place else None},
                 "interjections": [{"after_step": after_step, "say": "no, the other one"}]},
        "expect": {"success": True, "ask": False},
    })


def _put_back_actions(transcript: str) -> list[np.ndarray]:
    """Actions sent from the 'put ... back' announcement to the next announcement."""
    lines = [json.loads(line) for line in Path(transcript).read_text().splitlines()]
    start = next(i for i, r in enumerate(lines) if r["kind"] == "say" and "back where it was" in r["text"])
    sent = []
    for r in lines[start + 1:]:
        if r["kind"] == "say":
            break
        if r["kind"] == "action" and r["text"] != "hold":
            sent.append(np.asarray(r["data"]["sent"]))
    return sent


@pytest.mark.parametrize("after_step", [24, 10**6], ids=["in-gripper", "after-lifting"])
def test_wrong_cube_is_put_back_and_the_other_one_taken(tmp_path: Path, after_step: int) -> None:
    result = run_scenario(_scenario(after_step), EXPERT, tmp_path, seed=0)

    assert result.error is None and result.success and result.passed, result.message
    assert result.acted_on == "b" and result.acted_on_intended is True
    assert result.moved == ["b"]  # the wrong cube is back within 2 cm of where it stood
    actions = _put_back_actions(result.transcript)
    assert actions, "it announced the put-back and moved"
    assert all(a[6] > 0.5 for a in actions[:5])  # it keeps holding it (never drops it)
    moving = [a for a in actions if float(np.linalg.norm(a[:3])) > 1e-4]
    if after_step < 10**6:
        # Straight up before any sideways motion: the first moves rise with no xy component.
        first_sideways = next(i for i, a in enumerate(moving) if float(np.linalg.norm(a[:2])) > 1e-4)
        assert first_sideways >= 2 and all(a[2] > 0 for a in moving[:first_sideways])


def test_wrong_cube_already_placed_in_the_bowl_is_fetched_back(tmp_path: Path) -> None:
    result = run_scenario(_scenario(10**6, place=True), EXPERT, tmp_path, seed=0)
    assert result.error is None and result.success and result.passed, result.message
    assert result.acted_on == "b" and result.moved == ["b"]  # "a" is back where it stood


def test_person_does_not_correct_a_right_pick(tmp_path: Path) -> None:
    scenario = _scenario(10**6).model_copy(update={"instruction": "pick up the red cube",  # it must ask
                                                   "expect": Expect(success=True, ask=True)})
    result = run_scenario(scenario, EXPERT, tmp_path, seed=0)
    assert result.passed and result.success and result.acted_on == "b" and result.asked == 1
    assert " / " not in result.message  # no follow-up turn: the scripted correction went unsaid


# The learned policy (checkpoints/vla) was never shown a put-back: its executor runs a
# proprio-only motion back to the perceived spot (agent/put_back_motion.py).
VLA = RunConfig(consistency="off", policy="vla")


def test_with_the_learned_policy_the_wrong_cube_in_the_hand_goes_back_and_the_other_is_taken(tmp_path: Path) -> None:
    result = run_scenario(_scenario(24), VLA, tmp_path, seed=0)

    assert result.error is None and result.success and result.passed, result.message
    assert result.acted_on == "b" and result.moved == ["b"]  # "a" is back within 2 cm
    moving = [a for a in _put_back_actions(result.transcript) if float(np.linalg.norm(a[:3])) > 1e-4]
    first_sideways = next(i for i, a in enumerate(moving) if float(np.linalg.norm(a[:2])) > 1e-4)
    # Straight up first, at least 5 cm before anything moves sideways (nothing is dragged). Where
    # the hand had not closed yet it rises, goes home and only then turns to the other cube.
    rise = np.cumsum([float(a[2]) for a in moving[:first_sideways]])
    assert moving[0][2] > 0 and len(rise) >= 2 and float(rise.max()) >= 0.05


def test_with_the_learned_policy_a_cube_already_in_the_bowl_is_fetched_back_and_the_other_taken(tmp_path: Path) -> None:
    # The demonstrations never pick out of a bowl: the executor fetches it with a proprio-only
    # grasp straight down onto its perceived centre, carries it back, then the policy takes "b".
    result = run_scenario(_scenario(10**6, place=True), VLA, tmp_path, seed=0)

    assert result.error is None and result.success and result.passed, result.message
    assert result.acted_on == "b" and result.moved == ["b"]  # "a" is back within 2 cm
    lines = [json.loads(line) for line in Path(result.transcript).read_text().splitlines()]
    said = [r["text"] for r in lines if r["kind"] == "say"]
    assert not any("couldn't put it back" in s for s in said)


def test_the_fetch_goes_straight_down_onto_the_object_closes_and_lifts_before_carrying_it_back() -> None:
    from agent.put_back_motion import PutBackMotion

    state = np.array([0.40, 0.0, 0.20, 0, 0, 0, 1.0, 0.0])  # hand open, away from the bowl
    motion = PutBackMotion((0.55, -0.14, 0.02), fetch_from=np.array([0.45, 0.0, 0.035]))
    phases = [name for name, _, _ in motion._make_plan(state)]
    assert phases == ["open", "rise", "over", "descend", "close", "lift", "lift", "carry", "lower", "open", "rise"]
    fetch_only = PutBackMotion(None, fetch_from=np.array([0.45, 0.0, 0.035]))
    assert [name for name, _, _ in fetch_only._make_plan(state)][-2:] == ["close", "lift"]
    with pytest.raises(ValueError):
        PutBackMotion(None)
