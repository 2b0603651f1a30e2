"""Consistency check: the robot notices when the words do not describe what it is about to grab."""

from __future__ import annotations

import pytest

from perception.consistency import ConsistencyChecker, calibrate_threshold, parse_attributes
from perception.crops import RenderConditions, box_of_mask, render_frame, scene_crops
from perception.types import PerceivedObject
from sim.scene import ObjectSpec, SceneSpec

SCENE = SceneSpec(objects=[
    ObjectSpec(id="orange_cube", shape="cube", color="orange", position=(0.55, -0.12)),
    ObjectSpec(id="red_cube", shape="cube", color="red", position=(0.55, 0.12)),
    ObjectSpec(id="blue_ball", shape="ball", color="blue", position=(0.62, 0.0)),
])


def _conditions() -> RenderConditions:
    from sim.pybullet_camera import CameraConfig

    return RenderConditions(camera=CameraConfig(width=224, height=224))


@pytest.fixture(scope="module")
def checker() -> ConsistencyChecker:
    return ConsistencyChecker.from_pretrained()


@pytest.fixture(scope="module")
def frame():
    """rgb frame, per-object crops and pixel boxes of SCENE at the default viewpoint."""
    from sim.pybullet_arm import PyBulletArm

    arm = PyBulletArm(render=False)
    arm.connect()
    try:
        crops = scene_crops(arm, SCENE, _conditions())
        rgb, mask = render_frame(arm.client, _conditions())
        boxes = {o.id: box_of_mask(mask == arm.bodies.body_of[o.id]) for o in SCENE.objects}
    finally:
        arm.disconnect()
    return rgb, crops, boxes


def test_orange_cube_called_red_is_flagged_and_explained(checker, frame):
    _, crops, _ = frame
    result = checker.check("the red cube", crops["orange_cube"],
                           {2: crops["red_cube"], 3: crops["blue_ball"]})
    assert not result.consistent
    assert result.seen_color == "orange" and result.seen_shape == "cube"
    assert result.said_color == "red"
    assert "orange cube, not a red one" in result.explain()
    # The words fit the red cube beside it much better: the agent can offer it.
    assert result.best_alternative == 2
    assert result.best_alternative_score > result.score


def test_matching_words_pass(checker, frame):
    _, crops, _ = frame
    for expression, obj in (("the red block", "red_cube"), ("pick up the orange cube", "orange_cube"),
                            ("the blue sphere", "blue_ball")):
        result = checker.check(expression, crops[obj])
        assert result.consistent, (expression, result)


def test_check_on_perceived_objects_uses_their_boxes(checker, frame):
    rgb, _, boxes = frame

    def perceived(index: int, obj_id: str) -> PerceivedObject:
        spec = SCENE.get(obj_id)
        return PerceivedObject(index=index, color=spec.color, shape=spec.shape, size=spec.size,
                               position=(*spec.position, 0.02), box=boxes[obj_id])

    target = perceived(1, "orange_cube")
    others = [target, perceived(2, "red_cube"), perceived(3, "blue_ball")]
    result = checker.check_objects("the red cube", rgb, target, others)
    assert not result.consistent and result.best_alternative == 2
    assert set(result.alternative_scores) == {2, 3}


def test_threshold_separates_true_from_wrong_descriptions():
    calib = calibrate_threshold([0.9, 0.8, 0.7, 0.95], [0.1, 0.2, 0.05, 0.3])
    assert 0.3 < calib.threshold <= 0.7
    assert calib.false_alarm_rate == 0.0 and calib.miss_rate == 0.0


def test_attributes_named_in_everyday_words():
    assert parse_attributes("Put the crimson blocks in the bowl") == ("red", "cube")
    assert parse_attributes("the grey sphere, please") == ("gray", "ball")
    assert parse_attributes("that one") == (None, None)
