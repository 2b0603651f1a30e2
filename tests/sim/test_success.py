"""Success checks read physics facts; spatial words follow the scene's viewpoint."""

import numpy as np
import pytest

from sim.scene import ObjectSpec, SceneSpec
from sim.relations import GAP_M, Footprint, spots
from sim.success import WorldState, check_success
from sim.task_sampling import TASK_KINDS, is_feasible, sample_task
from sim.tasks import TaskSpec


def _scene(viewpoint: str = "user") -> SceneSpec:
    return SceneSpec(
        viewpoint=viewpoint,  # type: ignore[arg-type]
        objects=[
            ObjectSpec(id="a", shape="cube", color="red", size="small", position=(0.55, 0.12)),
            ObjectSpec(id="b", shape="cube", color="blue", size="medium", position=(0.45, -0.15)),
            ObjectSpec(id="bowl", shape="bowl", color="green", size="medium", position=(0.45, 0.05)),
        ],
    )


def _world(scene: SceneSpec, held: str = "", **moved: tuple[float, float, float]) -> WorldState:
    start = {o.id: np.array([*o.position, 0.02 if o.shape != "bowl" else 0.0]) for o in scene.objects}
    now = {k: np.asarray(moved.get(k, v), dtype=float) for k, v in start.items()}
    return WorldState(now, start, {k: 0.0 for k in now}, {k: k == held for k in now})


def test_user_left_is_robot_right_and_front_is_toward_the_person() -> None:
    # A 2 cm reference, a 3 cm object: spots are both radii plus the gap from its centre.
    ref, reach = Footprint((0.5, 0.0), 0.02), 0.02 + 0.03 + GAP_M
    assert np.allclose(spots("left_of", 0.03, [ref], viewpoint="user")[0], [0.5, -reach])
    assert np.allclose(spots("right_of", 0.03, [ref], viewpoint="user")[0], [0.5, reach])
    assert np.allclose(spots("in_front_of", 0.03, [ref], viewpoint="user")[0], [0.5 + reach, 0.0])
    assert np.allclose(spots("left_of", 0.03, [ref], viewpoint="robot")[0], [0.5, reach])
    assert np.allclose(spots("in_front_of", 0.03, [ref], viewpoint="robot")[0], [0.5 - reach, 0.0])
    assert len(spots("next_to", 0.03, [ref])) == 4


def test_pick_needs_five_centimetres_and_nothing_else_pushed() -> None:
    scene = _scene()
    task = TaskSpec(pick="a")
    assert not check_success(task, scene, _world(scene, held="a", a=(0.55, 0.12, 0.06))).success
    assert check_success(task, scene, _world(scene, held="a", a=(0.55, 0.12, 0.08))).success
    set_down_on_b = check_success(task, scene, _world(scene, a=(0.45, -0.15, 0.07)))
    assert not set_down_on_b.success and "not in the gripper" in set_down_on_b.reason
    pushed = _world(scene, held="a", a=(0.55, 0.12, 0.08), b=(0.48, -0.15, 0.02))
    report = check_success(task, scene, pushed)
    assert not report.success and "b" in report.reason


def test_in_bowl_on_top_and_relations() -> None:
    scene = _scene()
    assert check_success(TaskSpec(pick="a", place="bowl", relation="in"), scene, _world(scene, a=(0.46, 0.06, 0.027))).success
    assert not check_success(TaskSpec(pick="a", place="bowl", relation="in"), scene, _world(scene, a=(0.55, 0.05, 0.02))).success
    on_b = (0.45, -0.15, 0.05 + 0.02)
    assert check_success(TaskSpec(pick="a", place="b", relation="on"), scene, _world(scene, a=on_b)).success
    # Person's left of b is robot -y: a few cm beside its footprint counts; to its right does not.
    left = TaskSpec(pick="a", place="b", relation="left_of")
    assert check_success(left, scene, _world(scene, a=(0.47, -0.25 + 0.01, 0.02))).success
    assert not check_success(left, scene, _world(scene, a=(0.45, -0.05, 0.02))).success
    robot_view = _scene("robot")
    assert check_success(left, robot_view, _world(robot_view, a=(0.45, -0.05, 0.02))).success


def test_placement_needs_the_object_released() -> None:
    scene = _scene()
    world = _world(scene, a=(0.46, 0.06, 0.027))
    world.touching_robot["a"] = True
    report = check_success(TaskSpec(pick="a", place="bowl", relation="in"), scene, world)
    assert not report.success and "gripper" in report.reason


def test_a_bowl_caught_on_the_gripper_with_the_object_in_it_is_no_placement() -> None:
    scene = _scene()
    task = TaskSpec(pick="a", place="bowl", relation="in")
    brushed = _world(scene, a=(0.46, 0.06, 0.027))
    brushed.touching_robot["bowl"] = True  # a finger against the rim while letting go: fine
    assert check_success(task, scene, brushed).success
    lifted = _world(scene, a=(0.46, 0.06, 0.067), bowl=(0.45, 0.05, 0.04))
    lifted.touching_robot["bowl"] = True
    report = check_success(task, scene, lifted)
    assert not report.success and "bowl caught on the gripper" in report.reason


@pytest.mark.parametrize("kind", TASK_KINDS)
def test_sampled_tasks_are_feasible(kind: str) -> None:
    rng = np.random.default_rng(3)
    task = sample_task(rng, _scene(), kind)
    if task is not None:
        assert task.kind == kind and is_feasible(_scene(), task)


def test_infeasible_tasks_are_rejected() -> None:
    scene = _scene()
    assert not is_feasible(scene, TaskSpec(pick="bowl"))  # bowls are not graspable
    assert not is_feasible(scene, TaskSpec(pick="a", place="b", relation="in"))  # a cube is no container


def test_the_lowest_point_follows_the_objects_tilt() -> None:
    import itertools

    import pybullet

    from sim.objects import lowest_z

    cube = ObjectSpec(id="c", shape="cube", color="yellow", size="medium", position=(0.5, 0.0))
    cylinder = ObjectSpec(id="y", shape="cylinder", color="pink", size="medium", position=(0.5, 0.0))
    upright = (0.0, 0.0, 0.0, 1.0)
    assert lowest_z(cube, (0.5, 0.0, 0.025), upright) == pytest.approx(0.0)
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        rot = np.asarray(pybullet.getMatrixFromQuaternion(q.tolist())).reshape(3, 3)
        corners = [rot @ (0.025 * np.asarray(c)) for c in itertools.product((-1, 1), repeat=3)]
        assert lowest_z(cube, (0.5, 0.0, 0.05), q) == pytest.approx(0.05 + min(c[2] for c in corners))
    on_its_side = pybullet.getQuaternionFromEuler([np.pi / 2, 0.0, 0.0])
    assert lowest_z(cylinder, (0.5, 0.0, 0.04), on_its_side) == pytest.approx(0.04 - 0.025)


def test_a_cube_leaning_against_the_bowl_wall_with_a_corner_on_its_floor_is_in_the_bowl() -> None:
    """Held-out seed 3: a 5 cm cube came to rest in a small bowl tilted 47 degrees, its centre
    4.4 cm up and its lowest corner on the floor. Its centre less half its height (1.9 cm) read as
    "not resting on the bowl floor"; its lowest point says where it rests."""
    scene = _scene()
    task = TaskSpec(pick="b", place="bowl", relation="in")
    leaning = _world(scene, b=(0.46, 0.06, 0.044))
    assert not check_success(task, scene, leaning).success  # no orientation known: read as upright
    leaning.bottoms = {"b": 0.0053}
    assert check_success(task, scene, leaning).success
    # Held up 2 cm on something, upright: not resting on the floor either way.
    raised = _world(scene, b=(0.46, 0.06, 0.051))
    raised.bottoms = {"b": 0.026}
    assert "not resting on the bowl floor" in check_success(task, scene, raised).reason
