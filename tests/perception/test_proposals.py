"""Proposals from rendered PyBullet frames: attributes read from pixels and depth, faults, and
the whole chain render -> perceive -> ground on the contract's two-red-cubes scene."""

from __future__ import annotations

import numpy as np
import pytest

from perception.grounding import Grounder
from perception.proposals import perceive
from sim.scene import ObjectSpec, SceneSpec, sample_scene

TWO_RED_CUBES = SceneSpec(viewpoint="user", objects=[
    ObjectSpec(id="a", shape="cube", color="red", size="small", position=(0.55, 0.12)),
    ObjectSpec(id="b", shape="cube", color="red", size="small", position=(0.55, -0.12)),
    ObjectSpec(id="c", shape="bowl", color="green", position=(0.45, 0.0)),
])


@pytest.fixture(scope="module")
def arm():
    from sim.pybullet_arm import PyBulletArm

    arm = PyBulletArm()
    arm.connect()
    yield arm
    arm.disconnect()


def _look(arm, scene: SceneSpec, faults=None):
    arm.load_scene(scene)
    return perceive(arm.get_observation(), scene.viewpoint, faults, labels=arm.segmentation_labels)


def test_attributes_match_the_scene_on_a_few_random_scenes(arm):
    rng = np.random.default_rng(11)
    right = total = 0
    for _ in range(4):
        scene = sample_scene(rng, 4)
        seen = {o.sim_id: o for o in _look(arm, scene).objects}
        for spec in scene.objects:
            got = seen[spec.id]
            total += 1
            right += (got.color, got.shape, got.size) == (spec.color, spec.shape, spec.size)
            assert np.hypot(got.position[0] - spec.position[0], got.position[1] - spec.position[1]) < 0.03
            assert abs(sum(got.color_scores.values()) - 1) < 1e-6 and abs(sum(got.shape_scores.values()) - 1) < 1e-6
    assert right >= total - 1


def test_the_footprint_is_measured_as_the_circle_the_object_covers(arm):
    """Each shape's measured footprint radius is within 4 mm of the true one (a cube's half
    diagonal, a bowl's outer radius); half the extent reads up to a centimetre short."""
    from sim.scene import footprint_radius

    rng = np.random.default_rng(12)
    errors, halves = [], []
    for _ in range(4):
        scene = sample_scene(rng, 5)
        for got in _look(arm, scene).objects:
            spec = scene.get(got.sim_id)
            errors.append(got.footprint - footprint_radius(spec.shape, spec.size))
            halves.append(got.extent / 2 - footprint_radius(spec.shape, spec.size))
    assert max(abs(e) for e in errors) < 0.006 and abs(float(np.mean(errors))) < 0.002
    assert float(np.mean(halves)) < -0.002


def test_observation_is_labelled_privileged_and_numbered_left_to_right_on_screen(arm):
    seen = _look(arm, TWO_RED_CUBES)
    assert seen.source == "sim-segmentation"
    assert [o.index for o in seen.objects] == [1, 2, 3]
    assert [o.box[0] for o in seen.objects] == sorted(o.box[0] for o in seen.objects)


def test_rendered_two_red_cubes_ask_and_answer(arm):
    seen = _look(arm, TWO_RED_CUBES)
    grounder = Grounder()
    result = grounder.ground("put the red cube in the green bowl", seen)
    by_index = {o.index: o.sim_id for o in seen.objects}
    assert sorted(by_index[c.pick] for c in result.prediction_set) == ["a", "b"]
    assert {by_index[c.place] for c in result.prediction_set} == {"c"}
    answer = grounder.refine(result, "the one on the right", seen)  # a is at +y: the person's right
    assert [by_index[c.pick] for c in answer.prediction_set] == ["a"]


def test_faults_change_what_perception_sees_not_the_sim(arm):
    faults = [{"type": "misperceive_color", "object": "a", "as": "orange"}, {"type": "occlude", "object": "c"}]
    seen = {o.sim_id: o for o in _look(arm, TWO_RED_CUBES, faults).objects}
    assert seen["a"].color == "orange" and seen["b"].color == "red"
    assert "c" not in seen
    truth = {o.id: o for o in TWO_RED_CUBES.objects}
    assert truth["a"].color == "red"
    again = {o.sim_id: o for o in perceive(arm.get_observation(), labels=arm.segmentation_labels).objects}
    assert again["a"].color == "red" and "c" in again  # the next clean look sees the truth


def test_distractor_adds_an_unlabelled_phantom(arm):
    seen = _look(arm, TWO_RED_CUBES, [{"type": "distractor", "object": "b", "as": "blue"}])
    phantoms = [o for o in seen.objects if o.sim_id is None]
    assert len(phantoms) == 1 and phantoms[0].color == "blue"


def test_missing_camera_images_are_a_clear_error():
    with pytest.raises(KeyError, match="depth"):
        perceive({"rgb": np.zeros((8, 8, 3), np.uint8)}, "user")


@pytest.mark.slow
def test_attribute_accuracy_on_100_sampled_scenes():
    from perception.proposal_accuracy import measure

    report = measure(scenes=100, seed=0)
    assert report.seen == report.objects
    assert report.color >= 0.97 and report.shape >= 0.95 and report.size >= 0.97
    assert report.position_error_mean < 0.01


@pytest.mark.slow
def test_grounding_accuracy_on_100_rendered_scenes():
    from perception.grounding_accuracy import measure

    report = measure(scenes=100, seed=0)
    assert report.unique >= 0.95 and report.coverage >= 0.95


def test_a_cube_stacked_on_a_cube_is_still_a_small_cube(arm):
    scene = SceneSpec(objects=[ObjectSpec(id="low", shape="cube", color="red", size="large", position=(0.5, 0.0)),
                               ObjectSpec(id="top", shape="cube", color="blue", size="small", position=(0.5, 0.15))])
    arm.load_scene(scene)
    arm.client.resetBasePositionAndOrientation(arm.bodies.body_of["top"], [0.5, 0.0, 0.081], [0, 0, 0, 1])
    for _ in range(120):
        arm.client.stepSimulation()
    top = {o.sim_id: o for o in perceive(arm.get_observation(), labels=arm.segmentation_labels).objects}["top"]
    assert (top.shape, top.size) == ("cube", "small")
    assert abs(top.position[2] - 0.08) < 0.01  # centre 2 cm above the 6 cm cube's top


def test_without_the_sim_mask_objects_are_segmented_from_depth(arm):
    arm.load_scene(TWO_RED_CUBES)
    obs = {k: v for k, v in arm.get_observation().items() if k != "segmentation"}  # as a real arm
    seen = perceive(obs, "user")
    assert seen.source == "depth-segmentation"
    assert sorted(o.describe() for o in seen.objects) == ["medium green bowl", "small red cube", "small red cube"]
    assert all(o.sim_id is None for o in seen.objects)
    result = Grounder().ground("put the red cube in the green bowl", seen)
    assert len(result.prediction_set) == 2


def _set_on(arm, under: ObjectSpec, moved: ObjectSpec, z: float) -> None:
    """Load ``under`` and ``moved``, put ``moved`` at ``under``'s (x, y) and height ``z``, let it settle."""
    arm.load_scene(SceneSpec(objects=[under, moved]))
    arm.client.resetBasePositionAndOrientation(arm.bodies.body_of[moved.id], [*under.position, z], [0, 0, 0, 1])
    for _ in range(120):
        arm.client.stepSimulation()


@pytest.mark.parametrize("shape", ["cube", "cylinder"])
def test_an_object_in_a_bowl_of_its_own_colour_is_split_from_it(arm, shape):
    _set_on(arm, ObjectSpec(id="bowl", shape="bowl", color="red", size="large", position=(0.5, 0.0)),
            ObjectSpec(id="in", shape=shape, color="red", size="medium", position=(0.5, 0.2)), 0.035)
    obs = {k: v for k, v in arm.get_observation().items() if k != "segmentation"}  # as a real arm
    seen = perceive(obs, "user")
    assert sorted(o.describe() for o in seen.objects) == sorted(["large red bowl", f"medium red {shape}"])
    inside = next(o for o in seen.objects if o.shape != "bowl")
    assert np.hypot(inside.position[0] - 0.5, inside.position[1]) < 0.015


def test_a_cube_set_beside_a_bowl_of_its_own_colour_stays_a_cube(arm):
    arm.load_scene(SceneSpec(objects=[ObjectSpec(id="bowl", shape="bowl", color="green", size="medium", position=(0.5, 0.0)),
                                      ObjectSpec(id="cube", shape="cube", color="green", size="small", position=(0.5, 0.123))]))
    obs = {k: v for k, v in arm.get_observation().items() if k != "segmentation"}  # 2 cm edge to edge
    assert sorted(o.describe() for o in perceive(obs, "user").objects) == ["medium green bowl", "small green cube"]


@pytest.mark.parametrize("top", ["cube", "ball"])
def test_a_stack_of_one_colour_is_two_objects_from_depth(arm, top):
    _set_on(arm, ObjectSpec(id="low", shape="cube", color="red", size="large", position=(0.5, 0.0)),
            ObjectSpec(id="top", shape=top, color="red", size="small", position=(0.5, 0.2)), 0.082)
    arm.detail_size = 160  # the agent's look
    try:
        obs = {k: v for k, v in arm.get_observation(detail=True).items() if k != "segmentation"}  # as a real arm
    finally:
        arm.detail_size = None
    seen = sorted(perceive(obs, "user").objects, key=lambda o: o.position[2])
    assert len(seen) == 2 and seen[1].shape == top and abs(seen[1].position[0] - 0.5) < 0.015


@pytest.mark.slow
def test_depth_segmentation_accuracy_on_100_sampled_scenes():
    from perception.proposal_accuracy import measure

    report = measure(scenes=100, seed=0, depth_segmentation=True)
    assert report.seen >= 0.98 * report.objects and report.extra <= 0.05 * report.objects
    assert report.color >= 0.97 and report.shape >= 0.95 and report.size >= 0.95
