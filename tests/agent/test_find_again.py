"""Finding the moved object and its reference again in the look after a motion, among
same-colour objects: a small cube is not the large cube it was meant to go on (real frames)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from agent.context import ActTarget
from agent.outcome_check import check_outcome, find_again
from perception.types import PerceivedObject, SceneObservation
from sim.scene import ObjectSpec, SceneSpec
from sim.tabletop_env import TabletopEnv
from sim.tasks import TaskSpec

from tests.agent.table_moves import look, put

# Three cyan cubes (two small, one large) and a gray ball: "put the cyan cube at the back on the big one".
SCENE = SceneSpec(objects=[
    ObjectSpec(id="big", shape="cube", color="cyan", size="large", position=(0.56, 0.05)),
    ObjectSpec(id="side", shape="cube", color="cyan", size="small", position=(0.60, -0.17)),
    ObjectSpec(id="back", shape="cube", color="cyan", size="small", position=(0.40, 0.01)),
    ObjectSpec(id="ball", shape="ball", color="gray", size="medium", position=(0.42, 0.12)),
])
LET_GO_OVER_THE_BIG_CUBE = np.array([0.59, 0.07, 0.2, 0, 0, 0, 1.0, 0.0], dtype=np.float32)


@pytest.fixture
def env() -> Any:
    env = TabletopEnv(image_size=96)
    env.reset(seed=0, options={"scene": SCENE, "task": TaskSpec(pick="back", place="big", relation="on")})
    yield env
    env.close()


def test_a_small_cube_that_fell_beside_the_big_one_is_not_taken_for_it(env: TabletopEnv) -> None:
    before = look(env)
    seen = {o.sim_id: o for o in before.objects}
    target = ActTarget(pick=seen["back"], place=seen["big"], relation="on", instruction="")
    put(env, "big", (0.595, 0.075, 0.03))  # nudged 4 cm by the attempt
    put(env, "back", (0.62, 0.145, 0.02))  # slid off it onto the table
    verdict = check_outcome(target, before, look(env), LET_GO_OVER_THE_BIG_CUBE)
    assert not verdict.done
    assert verdict.pick is not None and verdict.pick.sim_id == "back"
    assert verdict.place is not None and verdict.place.sim_id == "big"


def _seen(index: int, shape: str, extent: float, x: float, y: float) -> PerceivedObject:
    return PerceivedObject(index=index, color="cyan", shape=shape, size="small", position=(x, y, 0.03),
                           box=(1, 1, 5, 5), extent=extent, height=0.05)


def test_a_cube_in_a_bowl_of_its_own_colour_read_as_a_second_bowl_is_the_cube() -> None:
    # As perceived on seed 14037: the cube in the cyan bowl reads as a small cyan bowl there.
    bowl, cube = _seen(1, "bowl", 0.113, 0.538, -0.023), _seen(2, "cube", 0.061, 0.470, 0.174)
    before = SceneObservation(objects=[bowl, cube])
    after = SceneObservation(objects=[_seen(1, "bowl", 0.114, 0.537, -0.023), _seen(2, "bowl", 0.067, 0.541, -0.018)])
    found = find_again(cube, before, after)
    assert found is not None and found.extent == 0.067
