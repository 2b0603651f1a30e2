"""Look at a real PyBullet table as the agent does, and move an object by hand between looks."""

from __future__ import annotations

from perception.proposals import perceive
from perception.types import SceneObservation
from sim.tabletop_env import TabletopEnv


def look(env: TabletopEnv) -> SceneObservation:
    """Perception of the arm's frame, from the person's side."""
    return perceive(env.arm.get_observation(), viewpoint="user", labels=env.arm.segmentation_labels)


def put(env: TabletopEnv, oid: str, xyz: tuple[float, float, float]) -> None:
    """Place object ``oid`` at ``xyz`` upright and let it settle (120 physics steps)."""
    client = env.arm.client
    client.resetBasePositionAndOrientation(env.arm.bodies.body_of[oid], list(xyz), [0, 0, 0, 1])
    for _ in range(120):
        client.stepSimulation()
