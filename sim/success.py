"""Success checks from physics state; where relations put things is ``sim/relations.py``.

Relations (``TaskSpec.relation``) are read from ``SceneSpec.viewpoint`` (the words' frame):

* ``user`` (default): the person stands across the table (+x) facing the robot. Their left is
  the robot's right (-y); "in front of X" is between X and the person (+x); "behind" is -x.
* ``robot``: the robot's own frame. Left is +y; "in front of X" is, by the same rule, between X
  and the speaker, here the robot (-x); "behind" is +x (farther from the robot).

So "in front of" always means "on the side of the reference that faces whoever is speaking",
and left/right/front/behind all flip together when the viewpoint flips.

A placement beside, between or in a region of the table succeeds when the object rests on the
table where ``sim/relations.py`` (the one relation geometry) says: beside the reference with a
small gap between the two footprints (edge to edge 0.5..8 cm, aimed at 3.5 cm; not touching,
not on or in it), within 40 degrees of the direction (``next_to``: any side); between two
references on the free stretch joining them; in a region, inside that part of the table.
``in`` = inside a bowl's inner radius resting on its floor; ``on`` = resting on top of the
reference. Every check also requires the object to be released (no robot contact) and at rest,
and its references left free (none caught on the gripper, lifted by it: a bowl lifted on a
finger with the object inside it is not a placement).
``pick`` succeeds when the object is lifted >= 5 cm and is in the gripper (not set down on
top of another object). In all tasks no uninvolved object may be
pushed more than 2 cm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from sim.objects import object_geometry
from sim.relations import BESIDE_RELATIONS, DIRECTIONAL_RELATIONS, DIRECTIONS, Footprint, Judgement, judge
from sim.relations import spots as relation_spots
from sim.scene import SceneSpec
from sim.tasks import TaskSpec

LIFT_HEIGHT = 0.05  # metres above the starting height for a pick
DISTURB_LIMIT = 0.02  # metres an uninvolved object may move
REST_SPEED = 0.05  # m/s below which an object counts as resting
REST_HEIGHT = 0.012  # metres: bottom this close to its support counts as resting on it
#: Re-exported for readers of the viewpoint conventions above (defined in sim/relations.py).
__all__ = ["DIRECTIONS", "DIRECTIONAL_RELATIONS", "CHECKS", "SuccessReport", "WorldState", "check_success",
           "footprint", "judge_task", "task_spots", "StepsReport", "check_all"]


def footprint(scene: SceneSpec, object_id: str, xy: np.ndarray) -> Footprint:
    """``object_id``'s footprint disc (``sim.scene.footprint_radius``) centred at ``xy``."""
    return Footprint((float(xy[0]), float(xy[1])), object_geometry(scene.get(object_id)).radius)


def task_spots(scene: SceneSpec, task: TaskSpec, positions: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """Candidate (x, y) spots for ``task``'s placement with the objects at ``positions``
    (``sim.relations.spots``, preference order)."""
    refs = [footprint(scene, r, positions[r]) for r in task.references]
    return relation_spots(task.relation, object_geometry(scene.get(task.pick)).radius, refs, task.region,
                          scene.viewpoint)


def judge_task(scene: SceneSpec, task: TaskSpec, positions: Mapping[str, np.ndarray]) -> Judgement:
    """Does ``task.pick`` stand where ``task``'s (beside / between / region) relation puts it?"""
    obj = footprint(scene, task.pick, positions[task.pick])
    refs = [footprint(scene, r, positions[r]) for r in task.references]
    return judge(task.relation, obj, refs, task.region, scene.viewpoint)


@dataclass
class WorldState:
    """What the checks read from physics: per object id, position (3,) m, speed m/s, contact,
    and the z of its lowest point at its current orientation (``sim.objects.lowest_z``; where
    missing, the centre less half the height, as for an upright object)."""

    positions: dict[str, np.ndarray]
    initial_positions: dict[str, np.ndarray]
    speeds: dict[str, float] = field(default_factory=dict)
    touching_robot: dict[str, bool] = field(default_factory=dict)
    bottoms: dict[str, float] = field(default_factory=dict)


def _bottom(scene: SceneSpec, world: WorldState, object_id: str) -> float:
    """z of the object's lowest point (see :class:`WorldState`)."""
    if object_id in world.bottoms:
        return float(world.bottoms[object_id])
    return float(world.positions[object_id][2] - object_geometry(scene.get(object_id)).height / 2.0)


@dataclass(frozen=True)
class SuccessReport:
    """Outcome of a check: success and a short human-readable reason."""

    success: bool
    reason: str


def _disturbed(task: TaskSpec, world: WorldState) -> list[str]:
    involved = {task.pick, *task.references}
    return [
        oid for oid, p in world.positions.items()
        if oid not in involved and float(np.linalg.norm(p - world.initial_positions[oid])) > DISTURB_LIMIT
    ]


def _released(task: TaskSpec, world: WorldState) -> str | None:
    if world.touching_robot.get(task.pick, False):
        return "object still in the gripper"
    if world.speeds.get(task.pick, 0.0) > REST_SPEED:
        return "object still moving"
    return None


def _references_caught(task: TaskSpec, world: WorldState) -> str | None:
    """A reference the gripper touches and has lifted (a bowl hooked on a finger)."""
    caught = [ref for ref in task.references if world.touching_robot.get(ref, False)
              and float(world.positions[ref][2] - world.initial_positions[ref][2]) > REST_HEIGHT]
    return f"reference {', '.join(caught)} caught on the gripper" if caught else None


def _check_pick(task: TaskSpec, scene: SceneSpec, world: WorldState) -> SuccessReport:
    lift = float(world.positions[task.pick][2] - world.initial_positions[task.pick][2])
    if lift < LIFT_HEIGHT:
        return SuccessReport(False, f"lifted {lift:.3f} m < {LIFT_HEIGHT} m")
    if not world.touching_robot.get(task.pick, False):
        return SuccessReport(False, f"{lift:.3f} m up but not in the gripper (set down on something)")
    return SuccessReport(True, f"lifted {lift:.3f} m")


def _check_in(task: TaskSpec, scene: SceneSpec, world: WorldState) -> SuccessReport:
    bowl = scene.get(str(task.place))
    if bowl.shape != "bowl":
        return SuccessReport(False, f"{bowl.id} is a {bowl.shape}, not a container")
    g = object_geometry(bowl)
    p, b = world.positions[task.pick], world.positions[bowl.id]
    dist = float(np.linalg.norm(p[:2] - b[:2]))
    if dist > g.inner_radius:
        return SuccessReport(False, f"{dist:.3f} m from bowl centre > inner radius {g.inner_radius:.3f}")
    bottom = _bottom(scene, world, task.pick)
    if bottom > b[2] + g.floor + REST_HEIGHT:
        return SuccessReport(False, f"not resting on the bowl floor (bottom at {bottom:.3f} m)")
    return SuccessReport(True, f"in the bowl, {dist:.3f} m from its centre")


def _check_on(task: TaskSpec, scene: SceneSpec, world: WorldState) -> SuccessReport:
    ref = scene.get(str(task.place))
    rg = object_geometry(ref)
    p, r = world.positions[task.pick], world.positions[ref.id]
    dist = float(np.linalg.norm(p[:2] - r[:2]))
    if dist > rg.radius:
        return SuccessReport(False, f"{dist:.3f} m off the reference's centre")
    gap = _bottom(scene, world, task.pick) - float(r[2] + rg.height / 2.0)
    if abs(gap) > REST_HEIGHT:
        return SuccessReport(False, f"not resting on top (gap {gap:.3f} m)")
    return SuccessReport(True, "on top of the reference")


def _on_table(task: TaskSpec, scene: SceneSpec, world: WorldState) -> str | None:
    bottom = _bottom(scene, world, task.pick)
    return None if bottom <= REST_HEIGHT else f"not resting on the table (bottom at {bottom:.3f} m)"


def _check_footprints(task: TaskSpec, scene: SceneSpec, world: WorldState) -> SuccessReport:
    """Beside, between or in a region: on the table, where ``sim.relations`` says."""
    problem = _on_table(task, scene, world)
    if problem:
        return SuccessReport(False, problem)
    verdict = judge_task(scene, task, world.positions)
    return SuccessReport(verdict.ok, verdict.reason)


Checker = Callable[[TaskSpec, SceneSpec, WorldState], SuccessReport]
#: Task kind (``TaskSpec.kind``) -> check.
CHECKS: dict[str, Checker] = {
    "pick": _check_pick,
    "place_in": _check_in,
    "place_on": _check_on,
    **{f"place_{r}": _check_footprints for r in (*BESIDE_RELATIONS, "between", "region")},
}


def check_success(task: TaskSpec, scene: SceneSpec, world: WorldState) -> SuccessReport:
    """Has ``task`` been achieved in ``world``? Placements also need the object released, at rest."""
    if task.kind not in CHECKS:
        raise KeyError(f"no success check for task kind {task.kind!r}")
    disturbed = _disturbed(task, world)
    if disturbed:
        return SuccessReport(False, f"knocked over/pushed {', '.join(disturbed)}")
    if task.places:
        problem = _released(task, world) or _references_caught(task, world)
        if problem:
            return SuccessReport(False, problem)
    return CHECKS[task.kind](task, scene, world)


@dataclass(frozen=True)
class StepsReport:
    """Outcome of several tasks checked at once: which hold, and why each does or not."""

    done: tuple[bool, ...]
    reasons: tuple[str, ...]

    @property
    def success(self) -> bool:
        return all(self.done)

    @property
    def steps_done(self) -> int:
        return sum(self.done)


def check_all(tasks: list[TaskSpec], scene: SceneSpec, world: WorldState) -> StepsReport:
    """Do all ``tasks`` (the steps of one request) hold in ``world``? Each is checked as by
    :func:`check_success`, the objects the other steps move exempt from its disturbance rule."""
    picks = {t.pick for t in tasks}
    done, reasons = [], []
    for task in tasks:
        exempt = picks - {task.pick}
        initial = {k: (world.positions[k] if k in exempt else v) for k, v in world.initial_positions.items()}
        report = check_success(task, scene, WorldState(world.positions, initial, world.speeds, world.touching_robot,
                                                       world.bottoms))
        done.append(report.success)
        reasons.append(report.reason)
    return StepsReport(tuple(done), tuple(reasons))
