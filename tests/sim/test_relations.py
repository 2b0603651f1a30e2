"""The one relation geometry: beside means a small gap between the FOOTPRINTS, whatever the
reference's size; between is on the free stretch joining two references; a region is a part of
the table in the speaker's frame."""

from __future__ import annotations

import numpy as np
import pytest

from sim.relations import GAP_M, Footprint, judge, spots
from sim.scene import ObjectSpec, SceneSpec
from sim.success import WorldState, check_success
from sim.task_sampling import is_feasible
from sim.tasks import TaskSpec

BOWL = ObjectSpec(id="bowl", shape="bowl", color="yellow", size="large", position=(0.52, 0.0))  # 9 cm radius
CUBE = ObjectSpec(id="cube", shape="cube", color="green", size="small", position=(0.40, 0.20))  # 2.8 cm radius
CYL = ObjectSpec(id="cyl", shape="cylinder", color="blue", size="medium", position=(0.52, -0.25))  # 2.5 cm radius


def _scene(viewpoint: str = "user") -> SceneSpec:
    return SceneSpec(viewpoint=viewpoint, objects=[BOWL, CUBE, CYL])  # type: ignore[arg-type]


def _world(scene: SceneSpec, cube_xy: tuple[float, float], cube_z: float = 0.02) -> WorldState:
    start = {o.id: np.array([*o.position, 0.02 if o.shape != "bowl" else 0.0]) for o in scene.objects}
    now = {**start, "cube": np.array([*cube_xy, cube_z])}
    return WorldState(now, start, {k: 0.0 for k in now}, {k: False for k in now})


def _ok(task: TaskSpec, cube_xy: tuple[float, float], viewpoint: str = "user", cube_z: float = 0.02) -> bool:
    scene = _scene(viewpoint)
    return check_success(task, scene, _world(scene, cube_xy, cube_z)).success


LEFT = TaskSpec(pick="cube", place="bowl", relation="left_of")  # person's left: robot -y
R = 0.09 + 0.04 * np.sqrt(2) / 2  # bowl radius + cube footprint radius (m)


def test_beside_a_bowl_is_a_few_centimetres_off_its_rim() -> None:
    assert _ok(LEFT, (0.52, -(R + 0.03)))  # 3 cm gap between the footprints
    assert _ok(LEFT, (0.52, -(R + 0.07)))
    assert not _ok(LEFT, (0.52, -R))  # touching the rim
    assert not _ok(LEFT, (0.52, -(R - 0.02)))  # on the rim
    assert not _ok(LEFT, (0.52, -0.02), cube_z=0.027)  # in the bowl (the old 10 cm spot is inside too)
    assert not _ok(LEFT, (0.52, -0.10))  # the old spot: 10 cm from the centre is on the rim
    assert not _ok(LEFT, (0.52, -(R + 0.12)))  # too far to be beside it
    assert not _ok(LEFT, (0.52, R + 0.03))  # the other side
    assert not _ok(LEFT, (0.52 + R + 0.03, 0.0))  # in front of it, not left of it
    assert _ok(LEFT, (0.52, R + 0.03), viewpoint="robot")  # the robot's left is +y


def test_next_to_accepts_any_side_with_a_gap() -> None:
    near = TaskSpec(pick="cube", place="bowl", relation="next_to")
    for d in ((1, 0), (0, 1), (-0.7, 0.7)):
        assert _ok(near, tuple(np.array([0.52, 0.0]) + (R + 0.03) * np.asarray(d) / np.linalg.norm(d)))
    assert not _ok(near, (0.52 + R - 0.01, 0.0))


def test_spots_are_both_radii_plus_the_gap_for_any_reference() -> None:
    for ref_radius in (0.02, 0.06, 0.09):
        spot = spots("behind", 0.025, [Footprint((0.5, 0.0), ref_radius)])[0]
        assert spot == pytest.approx([0.5 - ref_radius - 0.025 - GAP_M, 0.0])
        assert judge("behind", Footprint(tuple(spot), 0.025), [Footprint((0.5, 0.0), ref_radius)]).ok


def test_between_is_on_the_free_stretch_joining_the_references() -> None:
    task = TaskSpec(pick="cube", place="bowl", place2="cyl", relation="between")
    # The bowl's rim is at y = -0.09, the cylinder's edge at y = -0.225: the stretch's middle.
    middle = -(0.09 + (0.25 - 0.025)) / 2
    assert _ok(task, (0.52, middle))
    assert _ok(task, (0.54, middle))  # a little off the line
    assert not _ok(task, (0.60, middle))  # 8 cm off the line
    assert not _ok(task, (0.52, -0.10))  # touching the bowl
    assert not _ok(task, (0.52, -0.33))  # beyond the cylinder


def test_regions_are_parts_of_the_table_in_the_speakers_frame() -> None:
    corner = TaskSpec(pick="cube", region="front_right")  # the person's front right: +x, +y
    assert corner.relation == "region"
    assert _ok(corner, (0.65, 0.20))
    assert not _ok(corner, (0.40, 0.20))  # the back right
    assert _ok(corner, (0.40, -0.20), viewpoint="robot")  # the robot's front right: -x, -y
    middle = TaskSpec(pick="cube", region="middle")
    assert _ok(middle, (0.52, 0.0)) and not _ok(middle, (0.52, 0.15))
    assert _ok(TaskSpec(pick="cube", region="left_side"), (0.66, -0.2))


def test_feasibility_follows_the_same_geometry() -> None:
    scene = _scene()
    for relation in ("left_of", "right_of", "in_front_of", "behind", "next_to"):
        assert is_feasible(scene, TaskSpec(pick="cube", place="bowl", relation=relation)), relation  # type: ignore[arg-type]
    # A cylinder 2 cm from where the cube would stand leaves no room for the fingers.
    crowded = SceneSpec(objects=[BOWL, CUBE, CYL.model_copy(update={"position": (0.52, -0.20)})])
    assert not is_feasible(crowded, LEFT)
    assert is_feasible(scene, TaskSpec(pick="cube", place="bowl", place2="cyl", relation="between"))
    assert is_feasible(scene, TaskSpec(pick="cube", region="front_left"))
    assert not is_feasible(scene, TaskSpec(pick="cube", region="back_right"))  # already there
