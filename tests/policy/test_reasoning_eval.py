"""Scoring the written TARGET against sim truth: right, or which way it missed."""

from __future__ import annotations

from policy.training.reasoning_eval import target_miss
from policy.types import ReasonedObject, Reasoning

CUBE = ReasonedObject(name="red cube", box=(0.10, 0.10, 0.30, 0.30))
OTHER_CUBE = ReasonedObject(name="red cube", box=(0.60, 0.60, 0.80, 0.80))
BALL = ReasonedObject(name="gray ball", box=(0.40, 0.10, 0.55, 0.25))
TRUTH = Reasoning(visible=[CUBE, OTHER_CUBE, BALL], target=CUBE)


def written(target: ReasonedObject | None, *visible: ReasonedObject) -> Reasoning:
    return Reasoning(visible=list(visible), target=target)


def test_the_right_object_with_a_close_box_is_no_miss():
    near = ReasonedObject(name="red cube", box=(0.11, 0.10, 0.31, 0.31))
    assert target_miss(written(near, near, OTHER_CUBE), TRUTH) is None


def test_each_way_of_missing_is_told_apart():
    assert target_miss(written(None, CUBE), TRUTH) == "name"
    assert target_miss(written(BALL.model_copy(), CUBE, BALL), TRUTH) == "name"
    # the target seen as something else: nothing under its name lies on it
    assert target_miss(written(OTHER_CUBE, OTHER_CUBE, ReasonedObject(name="pink cube", box=CUBE.box)), TRUTH) \
        == "not_listed"
    loose = ReasonedObject(name="red cube", box=(0.15, 0.15, 0.35, 0.35))  # IoU 0.39
    assert target_miss(written(loose, loose), TRUTH) == "loose_box"
    # listed well, but the TARGET chose the other red cube
    assert target_miss(written(OTHER_CUBE, CUBE, OTHER_CUBE), TRUTH) == "other_object"
    nowhere = ReasonedObject(name="red cube", box=(0.85, 0.05, 0.95, 0.15))
    assert target_miss(written(nowhere, CUBE, nowhere), TRUTH) == "pointed_elsewhere"
