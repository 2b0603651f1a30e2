"""The one proprio layout and the one camera model every layer reads."""

from __future__ import annotations

import numpy as np
import pytest

from common.camera import CameraModel
from common.proprio import HOLDING_OPENING, Proprio, holds_something


def test_proprio_fields_round_trip_the_arms_vector() -> None:
    state = np.arange(8, dtype=np.float32) / 10.0
    hand = Proprio.from_array(state)
    assert (hand.x, hand.yaw, hand.opening, hand.command) == pytest.approx((0.0, 0.5, 0.6, 0.7))
    assert np.array_equal(hand.to_array(), state) and hand.to_array().dtype == np.float32
    assert hand.xyz.tolist() == pytest.approx([0.0, 0.1, 0.2])
    with pytest.raises(ValueError, match="8 values, got 7"):
        Proprio.from_array(np.zeros(7))


@pytest.mark.parametrize("opening, command, holding, shut", [
    (0.5, 1.0, True, False),  # closed on a 4 cm object
    (HOLDING_OPENING, 1.0, True, False),
    (0.1, 1.0, False, False),  # still closing
    (0.0, 1.0, False, True),  # shut on nothing
    (0.5, 0.0, False, False),  # open
])
def test_one_definition_of_holding(opening: float, command: float, holding: bool, shut: bool) -> None:
    hand = Proprio(0.5, 0.0, 0.1, 0.0, 0.0, 0.0, opening=opening, command=command)
    assert (hand.holding, hand.shut, holds_something(hand.to_array())) == (holding, shut, holding)


def test_the_camera_model_projects_what_it_deprojects_and_survives_a_checkpoint_config() -> None:
    from sim.pybullet_camera import CameraConfig, camera_model

    camera = camera_model(CameraConfig())
    u, v = np.array([10.0, 48.0, 80.0]), np.array([20.0, 48.0, 70.0])
    points = camera.deproject(u, v, np.array([1.0, 0.9, 0.8]))
    assert camera.project(points) == pytest.approx(np.stack([u, v], axis=1))
    stored = CameraModel.from_dict(camera.to_dict())
    assert stored == camera and hash(stored) == hash(camera)
    with pytest.raises(ValueError, match="4x4"):
        CameraModel(width=8, height=8, fx=1.0, fy=1.0, cx=4.0, cy=4.0, base_from_camera=np.eye(3))
