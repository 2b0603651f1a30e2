"""Shared fixtures: small scenes and a connected arm (DIRECT, state-only unless asked)."""

from __future__ import annotations

from typing import Iterator

import pytest

from sim.pybullet_arm import PyBulletArm
from sim.pybullet_camera import CameraConfig
from sim.scene import ObjectSpec, SceneSpec


@pytest.fixture
def two_cubes_and_bowl() -> SceneSpec:
    return SceneSpec(
        objects=[
            ObjectSpec(id="a", shape="cube", color="red", size="small", position=(0.55, 0.12)),
            ObjectSpec(id="b", shape="cube", color="red", size="small", position=(0.55, -0.12)),
            ObjectSpec(id="c", shape="bowl", color="green", size="medium", position=(0.45, 0.0)),
        ]
    )


@pytest.fixture
def arm() -> Iterator[PyBulletArm]:
    a = PyBulletArm(CameraConfig(width=64, height=64))
    a.connect()
    yield a
    a.disconnect()
