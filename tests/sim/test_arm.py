"""The PyBullet arm: registry, features, clipping as applied, holding still, gripping."""

import numpy as np
import pytest

from sim.arm import make_arm
from sim.pybullet_arm import PyBulletArm
from sim.scene import SceneSpec


def test_registry_builds_a_pybullet_arm_with_features_before_connect() -> None:
    arm = make_arm("pybullet")
    assert isinstance(arm, PyBulletArm) and not arm.is_connected
    feats = arm.observation_features
    assert feats["rgb"] == ((96, 96, 3), "uint8")
    assert feats["state"] == ((8,), "float32")
    assert arm.action_features["action"] == ((7,), "float32")


def test_sent_action_is_what_the_arm_applied(arm: PyBulletArm, two_cubes_and_bowl: SceneSpec) -> None:
    arm.load_scene(two_cubes_and_bowl)
    before, _, _ = arm.commanded
    sent = arm.send_action(np.array([0.2, 0.0, 0.0, 0.3, 0.3, 0.0, 0.0], dtype=np.float32))
    after, _, _ = arm.commanded
    assert np.isclose(sent[0], arm.safety.max_translation)
    assert np.allclose(after - before, sent[:3], atol=1e-6)
    assert sent[3] == 0.0 and sent[4] == 0.0  # roll/pitch are not applied, and say so


def test_zero_action_holds_without_drift(arm: PyBulletArm, two_cubes_and_bowl: SceneSpec) -> None:
    arm.load_scene(two_cubes_and_bowl)
    for _ in range(5):
        arm.send_action(np.array([0.03, 0.03, -0.03, 0, 0, 0, 0], dtype=np.float32))
    arm.send_action(np.zeros(7, dtype=np.float32))
    start = arm.get_state()[:3]
    for _ in range(10):
        arm.send_action(np.zeros(7, dtype=np.float32))
    assert np.linalg.norm(arm.get_state()[:3] - start) < 0.002


def test_hold_stops_the_arm_within_one_control_step(arm: PyBulletArm, two_cubes_and_bowl: SceneSpec) -> None:
    arm.load_scene(two_cubes_and_bowl)
    for _ in range(3):
        arm.send_action(np.array([0.03, 0.0, -0.03, 0, 0, 0, 0], dtype=np.float32))
    arm.hold()
    stopped = arm.get_state()[:3]
    for _ in range(5):
        arm.send_action(np.zeros(7, dtype=np.float32))
    assert np.linalg.norm(arm.get_state()[:3] - stopped) < 0.005


def test_gripper_closes_and_opens(arm: PyBulletArm, two_cubes_and_bowl: SceneSpec) -> None:
    arm.load_scene(two_cubes_and_bowl)
    assert arm.get_state()[6] > 0.95  # starts open
    for _ in range(5):
        arm.send_action(np.array([0, 0, 0, 0, 0, 0, 1.0], dtype=np.float32))
    assert arm.get_state()[6] < 0.05 and arm.get_state()[7] == 1.0
    for _ in range(5):
        arm.send_action(np.zeros(7, dtype=np.float32))
    assert arm.get_state()[6] > 0.95


def test_observation_matches_features_and_skips_images_on_request(arm: PyBulletArm, two_cubes_and_bowl: SceneSpec) -> None:
    arm.load_scene(two_cubes_and_bowl)
    obs = arm.get_observation()
    for key in ("rgb", "depth", "segmentation", "state"):
        shape, dtype = arm.observation_features[key]
        assert obs[key].shape == shape and obs[key].dtype == np.dtype(dtype), key
    assert set(np.unique(obs["segmentation"])) == {-1, 0, 1, 2}
    assert arm.segmentation_labels == {0: "a", 1: "b", 2: "c"}
    fast = arm.get_observation(render=False)
    assert "rgb" not in fast and fast["state"].shape == (8,)


def test_not_connected_arm_says_so() -> None:
    with pytest.raises(RuntimeError, match="connect"):
        PyBulletArm().get_state()
