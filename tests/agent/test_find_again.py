"""Finding the moved object and its reference again in the look after a motion, among
same-colour objects: a small cube is not the large cube it was meant to go on (real frames)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from agent.context import ActTarget
from agent.outcome_check import check_outcome
from perception.proposals import perceive
from perception.types import SceneObservation
from sim.scene import ObjectSpec, SceneSpec
from sim.tabletop_env import TabletopEnv
from sim.tasks import TaskSpec

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


def _look(env: TabletopEnv) -> SceneObservation:
    return perceive(env.arm.get_observation(), viewpoint="user", labels=env.arm.segmentation_labels)


def _put(env: TabletopEnv, oid: str, xyz: tuple[float, float, float]) -> None:
    client = env.arm.client
    client.resetBasePositionAndOrientation(env.arm.bodies.body_of[oid], list(xyz), [0, 0, 0, 1])
    for _ in range(120):
        client.stepSimulation()


def test_a_small_cube_that_fell_beside_the_big_one_is_not_taken_for_it(env: TabletopEnv) -> None:
    before = _look(env)
    seen = {o.sim_id: o for o in before.objects}
    target = ActTarget(pick=seen["back"], place=seen["big"], relation="on", instruction="")
    _put(env, "big", (0.595, 0.075, 0.03))  # nudged 4 cm by the attempt
    _put(env, "back", (0.62, 0.145, 0.02))  # slid off it onto the table
    verdict = check_outcome(target, before, _look(env), LET_GO_OVER_THE_BIG_CUBE)
    assert not verdict.done
    assert verdict.pick is not None and verdict.pick.sim_id == "back"
    assert verdict.place is not None and verdict.place.sim_id == "big"


def test_a_cube_in_a_bowl_of_its_own_colour_is_found_in_it() -> None:
    scene = SceneSpec(objects=[
        ObjectSpec(id="bowl", shape="bowl", color="cyan", size="small", position=(0.54, -0.02)),
        ObjectSpec(id="cube", shape="cube", color="cyan", size="medium", position=(0.47, 0.17)),
        ObjectSpec(id="gray", shape="cube", color="gray", size="large", position=(0.40, 0.0)),
    ])
    env = TabletopEnv(image_size=96)
    try:
        env.reset(seed=0, options={"scene": scene, "task": TaskSpec(pick="cube", place="bowl", relation="in")})
        before = _look(env)
        seen = {o.sim_id: o for o in before.objects}
        target = ActTarget(pick=seen["cube"], place=seen["bowl"], relation="in", instruction="")
        _put(env, "cube", (0.542, -0.018, 0.035))
        verdict = check_outcome(target, before, _look(env), LET_GO_OVER_THE_BIG_CUBE)
        assert verdict.pick is not None and verdict.pick.sim_id == "cube"
        assert verdict.place is not None and verdict.place.sim_id == "bowl" and verdict.done
    finally:
        env.close()
