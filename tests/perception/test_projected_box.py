"""The steering box: a perceived object's measured 3-D box, projected into the image, is the box
format the policy's demonstrations use (the true 3-D box projected), closer to it than the
pixel box of what the object shows."""

from __future__ import annotations

import numpy as np
import pytest

from agent.commands.collect import project_boxes
from agent.self_check import normalised_box
from perception.projected_box import projected_box
from perception.proposals import perceive
from policy.model.cot_format import box_iou
from sim.scene import sample_scene


@pytest.fixture(scope="module")
def arm():
    from sim.pybullet_arm import PyBulletArm

    arm = PyBulletArm()  # 96 x 96 pixels, as the policy sees
    arm.connect()
    yield arm
    arm.disconnect()


def test_projected_boxes_match_the_demonstrations_boxes_better_than_pixel_boxes(arm):
    rng = np.random.default_rng(5)
    projected, pixel = [], []
    for _ in range(4):
        scene = sample_scene(rng, 4)
        arm.load_scene(scene)
        obs = arm.get_observation()
        truth = project_boxes(scene, {k: p.position for k, p in arm.object_poses().items()}, arm.camera)
        for obj in perceive(obs, scene.viewpoint, labels=arm.segmentation_labels).objects:
            if obj.sim_id not in truth:
                continue
            box = projected_box(obj, obs["camera"])
            assert box is not None and all(0.0 <= v <= 1.0 for v in box) and box[0] < box[2] and box[1] < box[3]
            projected.append(box_iou(box, truth[obj.sim_id]))
            pixel.append(box_iou(normalised_box(obj, (96, 96)), truth[obj.sim_id]))
    assert len(projected) >= 12
    assert np.mean(projected) > np.mean(pixel) + 0.05
    assert min(projected) > 0.5, "every object's projected box still means that object"


def test_an_object_without_measured_size_has_no_projected_box(arm):
    scene = sample_scene(np.random.default_rng(2), 3)
    arm.load_scene(scene)
    obs = arm.get_observation()
    obj = perceive(obs, scene.viewpoint).objects[0].model_copy(update={"extent": None})
    assert projected_box(obj, obs["camera"]) is None


def test_the_policys_stored_camera_projects_like_the_camera_it_was_recorded_from(arm):
    """Steering boxes go through the camera the policy's demos were recorded with, stored in its
    checkpoint config (``PolicyConfig.geometry_camera``, a dict in JSON): read back, it is the
    same camera model and keeps that box convention exactly."""
    import json

    from common.camera import CameraModel

    scene = sample_scene(np.random.default_rng(3), 3)
    arm.load_scene(scene)
    obs = arm.get_observation()
    stored = CameraModel.from_dict(json.loads(json.dumps(obs["camera"].to_dict())))
    assert stored == obs["camera"]
    for obj in perceive(obs, scene.viewpoint).objects:
        assert projected_box(obj, stored) == pytest.approx(projected_box(obj, obs["camera"]))
