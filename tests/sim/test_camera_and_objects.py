"""Camera geometry agrees with the renderer; objects look and behave like what they are."""

import numpy as np

from sim.objects import object_geometry
from sim.pybullet_arm import PyBulletArm
from sim.pybullet_camera import CameraConfig
from sim.scene import ObjectSpec, SceneSpec


def _scene() -> SceneSpec:
    return SceneSpec(
        objects=[
            ObjectSpec(id="cube", shape="cube", color="red", size="medium", position=(0.45, 0.15)),
            ObjectSpec(id="ball", shape="ball", color="blue", size="large", position=(0.62, -0.18)),
            ObjectSpec(id="cyl", shape="cylinder", color="yellow", size="small", position=(0.38, -0.05)),
            ObjectSpec(id="bowl", shape="bowl", color="green", size="large", position=(0.60, 0.05)),
        ]
    )


def test_projection_hits_the_mask_and_deprojection_returns_the_point() -> None:
    arm = PyBulletArm(CameraConfig(width=128, height=128))
    arm.connect()
    scene = _scene()
    arm.load_scene(scene)
    obs = arm.get_observation()
    cam, seg, depth = obs["camera"], obs["segmentation"], obs["depth"]
    poses = arm.object_poses()
    for index, obj in enumerate(scene.objects):
        # The top centre of a solid is visible from the elevated camera; for the bowl, its floor.
        top = poses[obj.id].position.copy()
        g = object_geometry(obj)
        top[2] += g.floor if obj.shape == "bowl" else g.height / 2.0
        u, v = np.round(cam.project(top[None])[0]).astype(int)
        assert 0 <= u < cam.width and 0 <= v < cam.height
        assert seg[v, u] == index, obj.id
        back = cam.deproject(np.array([u]), np.array([v]), depth[v, u])[0]
        assert np.linalg.norm(back - top) < 0.01, (obj.id, back, top)
    arm.disconnect()


def test_person_sees_robot_left_on_image_right_and_colours_render() -> None:
    arm = PyBulletArm(CameraConfig(width=96, height=96))
    arm.connect()
    scene = _scene()
    arm.load_scene(scene)
    obs = arm.get_observation()
    cols = {o.id: np.nonzero(obs["segmentation"] == i)[1].mean() for i, o in enumerate(scene.objects)}
    assert cols["cube"] > obs["rgb"].shape[1] / 2 > cols["ball"]  # +y (robot left) is image right
    red = obs["rgb"][obs["segmentation"] == 0].astype(float).mean(0) / 255.0
    assert red[0] > 0.4 and red[0] > 2 * red[1] and red[0] > 2 * red[2]
    assert np.all(obs["depth"][obs["segmentation"] >= 0] < 2.0)
    arm.disconnect()


def test_bowl_holds_a_dropped_ball_and_mapping_is_two_way(arm: PyBulletArm) -> None:
    scene = SceneSpec(
        objects=[
            ObjectSpec(id="bowl", shape="bowl", color="green", size="small", position=(0.5, 0.0)),
            ObjectSpec(id="ball", shape="ball", color="red", size="medium", position=(0.5, 0.2)),
        ]
    )
    bodies = arm.load_scene(scene)
    assert bodies.object_of[bodies.body_of["ball"]] == "ball"
    c = arm.client
    # Drop the ball into the bowl with a sideways push: the walls must stop it.
    c.resetBasePositionAndOrientation(bodies.body_of["ball"], [0.5, 0.0, 0.10], [0, 0, 0, 1])
    c.resetBaseVelocity(bodies.body_of["ball"], [0.4, 0.3, 0.0])
    for _ in range(480):
        c.stepSimulation()
    ball = arm.object_poses()["ball"].position
    g = object_geometry(scene.get("bowl"))
    assert np.linalg.norm(ball[:2] - [0.5, 0.0]) < g.inner_radius
    assert ball[2] < g.height




def test_a_balls_silhouette_is_centred_on_its_projected_centre_across_the_image() -> None:
    """TinyRenderer puts the optical axis at column W/2; a model at (W-1)/2 put every perceived
    position 4.5 mm off in y."""
    arm = PyBulletArm(CameraConfig(width=96, height=96))
    arm.connect()
    for y in (-0.15, 0.0, 0.12):
        arm.load_scene(SceneSpec(objects=[ObjectSpec(id="ball", shape="ball", color="blue", size="large",
                                                     position=(0.55, y))]))
        obs = arm.get_observation()
        cols = np.nonzero(obs["segmentation"] == 0)[1]
        u = obs["camera"].project(arm.object_poses()["ball"].position[None])[0][0]
        assert abs(cols.mean() - u) < 0.2, (y, cols.mean(), u)
    arm.disconnect()
