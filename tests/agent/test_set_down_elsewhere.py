"""A put-back of an object the robot already set down ("no, the other one" right after a placement)
first fetches it from where the hand let go. The step back has taken the hand home since, so the
search is around the release point, not the hand."""

from __future__ import annotations

import numpy as np
import pytest

from agent.vla_executor import set_down_elsewhere
from perception.types import PerceivedObject
from sim.scene import ObjectSpec, SceneSpec

SCENE = SceneSpec(viewpoint="user", objects=[
    ObjectSpec(id="set_down", shape="cube", color="yellow", size="small", position=(0.45, 0.20)),
    ObjectSpec(id="bowl", shape="bowl", color="cyan", position=(0.60, -0.15)),
])
STOOD_AT = np.array([0.55, -0.20, 0.02])  # where the yellow cube stood before it was moved
WAS = PerceivedObject(index=1, color="yellow", shape="cube", size="small", position=tuple(STOOD_AT), box=(0, 0, 1, 1))


@pytest.fixture(scope="module")
def obs():
    from sim.pybullet_arm import PyBulletArm

    arm = PyBulletArm()
    arm.connect()
    try:
        arm.load_scene(SCENE)
        yield arm.get_observation()
    finally:
        arm.disconnect()


def test_the_object_is_found_where_the_hand_let_go_not_under_the_hand_at_home(obs):
    hand = np.asarray(obs["state"][:2])
    assert np.linalg.norm(hand - np.array([0.45, 0.20])) > 0.12  # home is far from the release point
    assert set_down_elsewhere(obs, WAS, STOOD_AT) is None
    found = set_down_elsewhere(obs, WAS, STOOD_AT, let_go_at=np.array([0.46, 0.19, 0.10]))
    assert found is not None and found.color == "yellow"
    assert np.linalg.norm(np.asarray(found.position[:2]) - np.array([0.45, 0.20])) < 0.02


def test_nothing_is_fetched_when_it_already_stands_where_it_stood(obs):
    back = np.array([0.45, 0.20, 0.02])
    assert set_down_elsewhere(obs, WAS, back, let_go_at=np.array([0.46, 0.19, 0.10])) is None


def test_the_look_after_a_put_back_says_when_it_is_not_back():
    from agent.nodes_act import not_back

    there = WAS.model_copy(update={"position": (0.56, -0.19, 0.02)})
    assert not_back([there], WAS, "the yellow cube") is None
    away = WAS.model_copy(update={"position": (0.45, 0.20, 0.02)})
    assert not_back([away], WAS, "the yellow cube") == "it is 41 cm from where it stood"
    assert not_back([], WAS, "the yellow cube") == "I can't see the yellow cube any more"
