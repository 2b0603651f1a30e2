"""A retry judges the object with its own height, not the height of what it was left on top of."""

from __future__ import annotations

import numpy as np

from agent.context import ActTarget
from agent.outcome_check import aim_again, check_outcome
from perception.types import PerceivedObject, SceneObservation

OPEN_HAND_HOME = np.array([0.38, 0.0, 0.43, 0, 0, 0, 1.0, 0.0], dtype=np.float32)


def _obj(index: int, color: str, shape: str, xy: tuple[float, float], height: float, extent: float) -> PerceivedObject:
    return PerceivedObject(index=index, color=color, shape=shape, size="small", position=(*xy, height / 2),
                           box=(1, 1, 5, 5), extent=extent, height=height)


def test_a_ball_left_on_the_cube_in_the_bowl_fails_the_retry_look_too() -> None:
    # As perceived on multistep seed 11324: the blue ball ended on the yellow cube already in the bowl.
    bowl = _obj(1, "green", "bowl", (0.546, 0.017), 0.047, 0.172)
    cube = _obj(2, "yellow", "cube", (0.544, 0.023), 0.048, 0.037)
    ball = _obj(3, "blue", "ball", (0.420, -0.126), 0.040, 0.029)
    first = SceneObservation(objects=[bowl, cube, ball])
    target = ActTarget(pick=ball, place=bowl, relation="in", instruction="put the blue ball in the green bowl")
    on_top = SceneObservation(objects=[bowl, cube, _obj(3, "blue", "ball", (0.549, 0.015), 0.086, 0.030)])
    verdict = check_outcome(target, first, on_top, OPEN_HAND_HOME)
    assert not verdict.done and "rim" in verdict.reason
    retry_scene, retry_verdict = aim_again(target, on_top, verdict, holding=False)
    assert retry_verdict.pick is not None and retry_verdict.pick.height == 0.040
    again = ActTarget(pick=retry_verdict.pick, place=retry_verdict.place, relation="in", instruction=target.instruction)
    still_on_top = SceneObservation(objects=[bowl, cube, _obj(3, "blue", "ball", (0.548, 0.023), 0.086, 0.036)])
    assert not check_outcome(again, retry_scene, still_on_top, OPEN_HAND_HOME).done
