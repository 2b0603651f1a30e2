"""After a put-down in a small bowl the fingers, opened wide, press on its wall; the step back
narrows them to just wider than what they held before rising, so the bowl stays on the table
(real PyBullet arm, the executor's own proprio-only motion)."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from agent.put_back_motion import PutBackMotion
from sim.scene import ObjectSpec, SceneSpec
from sim.tabletop_env import TabletopEnv
from sim.tasks import TaskSpec

BOWL_XY = (0.50, 0.0)
SCENE = SceneSpec(objects=[
    ObjectSpec(id="bowl", shape="bowl", color="gray", size="small", position=BOWL_XY),
    ObjectSpec(id="cube", shape="cube", color="red", size="small", position=(0.60, 0.25)),
])


def _drive(env: TabletopEnv, goal: tuple[float, float, float], grip: float, steps: int = 60) -> None:
    for _ in range(steps):
        ee = env.arm.get_state()[:3]
        delta = np.clip(np.asarray(goal) - ee, -0.02, 0.02)
        env.arm.send_action(np.array([*delta, 0, 0, 0, grip], dtype=np.float32))


def _bowl_z_after_rising(clear_opening: Optional[float]) -> float:
    env = TabletopEnv(image_size=64)
    try:
        env.reset(seed=0, options={"scene": SCENE, "task": TaskSpec(pick="cube", place="bowl")})
        _drive(env, (*BOWL_XY, 0.15), grip=1.0)
        _drive(env, (*BOWL_XY, 0.035), grip=1.0)  # a closed hand down inside the bowl
        _drive(env, (*BOWL_XY, 0.035), grip=0.0, steps=15)  # let go: the fingers open onto the wall
        motion = PutBackMotion(tuple(float(v) for v in env.arm.get_state()[:3]), clear_opening=clear_opening)
        for _ in range(40):
            if motion.done:
                break
            for action in motion.next_actions(env.arm.get_state()):
                env.arm.send_action(action)
        return float(env.object_poses()["bowl"].position[2])
    finally:
        env.close()


def test_narrowed_fingers_leave_the_bowl_on_the_table_where_wide_open_ones_lift_it() -> None:
    assert _bowl_z_after_rising(clear_opening=None) > 0.05  # the cause: a wide-open rise takes it along
    assert _bowl_z_after_rising(clear_opening=0.6) < 0.01
