"""Success checks from physics state, and the geometry of spatial relations.

Relations (``TaskSpec.relation``) are read from ``SceneSpec.viewpoint`` (the words' frame):

* ``user`` (default): the person stands across the table (+x) facing the robot. Their left is
  the robot's right (-y); "in front of X" is between X and the person (+x); "behind" is -x.
* ``robot``: the robot's own frame. Left is +y; "in front of X" is, by the same rule, between X
  and the speaker, here the robot (-x); "behind" is +x (farther from the robot).

So "in front of" always means "on the side of the reference that faces whoever is speaking",
and left/right/front/behind all flip together when the viewpoint flips.

A relation placement succeeds when the object rests on the table ``RELATION_DISTANCE`` (0.10 m)
from the reference in that direction, within ``RELATION_TOLERANCE`` (0.05 m); ``next_to``
accepts any direction (0.05..0.15 m centre to centre). ``in`` = inside a bowl's inner radius
resting on its floor; ``on`` = resting on top of the reference. Every check also requires the
object to be released (no robot contact) and at rest. ``pick`` succeeds when the object is
lifted >= 5 cm. In all tasks no uninvolved object may be pushed more than 2 cm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from sim.objects import object_geometry
from sim.scene import SceneSpec, Viewpoint
from sim.tasks import TaskSpec

RELATION_DISTANCE = 0.10  # metres, reference centre -> object centre
RELATION_TOLERANCE = 0.05  # metres
LIFT_HEIGHT = 0.05  # metres above the starting height for a pick
DISTURB_LIMIT = 0.02  # metres an uninvolved object may move
REST_SPEED = 0.05  # m/s below which an object counts as resting
REST_HEIGHT = 0.012  # metres: bottom this close to its support counts as resting on it

#: Viewpoint -> relation -> unit (dx, dy) in the robot base frame (see module docstring).
DIRECTIONS: dict[str, dict[str, tuple[float, float]]] = {
    "user": {"left_of": (0.0, -1.0), "right_of": (0.0, 1.0), "in_front_of": (1.0, 0.0), "behind": (-1.0, 0.0)},
    "robot": {"left_of": (0.0, 1.0), "right_of": (0.0, -1.0), "in_front_of": (-1.0, 0.0), "behind": (1.0, 0.0)},
}
DIRECTIONAL_RELATIONS: tuple[str, ...] = ("left_of", "right_of", "in_front_of", "behind")


def relation_targets(reference_xy: np.ndarray, relation: str, viewpoint: Viewpoint = "user") -> list[np.ndarray]:
    """Candidate target (x, y) centres for placing an object ``relation`` the reference.

    One candidate for in/on (the reference centre) and the directional relations; four for
    ``next_to`` (the four sides at ``RELATION_DISTANCE``), in a fixed order.
    """
    ref = np.asarray(reference_xy, dtype=np.float64)[:2]
    if relation in ("in", "on"):
        return [ref.copy()]
    if relation in DIRECTIONAL_RELATIONS:
        return [ref + RELATION_DISTANCE * np.asarray(DIRECTIONS[viewpoint][relation])]
    if relation == "next_to":
        return [ref + RELATION_DISTANCE * np.asarray(d) for d in DIRECTIONS["robot"].values()]
    raise KeyError(f"unknown relation {relation!r}")


def target_xy(reference_xy: np.ndarray, relation: str, viewpoint: Viewpoint = "user", toward: np.ndarray | None = None) -> np.ndarray:
    """The (x, y) to place at; for ``next_to`` the candidate nearest ``toward`` (if given)."""
    cands = relation_targets(reference_xy, relation, viewpoint)
    if toward is None or len(cands) == 1:
        return cands[0]
    t = np.asarray(toward, dtype=np.float64)[:2]
    return min(cands, key=lambda c: float(np.linalg.norm(c - t)))


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
    involved = {task.pick, task.place}
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


def _check_pick(task: TaskSpec, scene: SceneSpec, world: WorldState) -> SuccessReport:
    lift = float(world.positions[task.pick][2] - world.initial_positions[task.pick][2])
    if lift < LIFT_HEIGHT:
        return SuccessReport(False, f"lifted {lift:.3f} m < {LIFT_HEIGHT} m")
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


def _check_direction(task: TaskSpec, scene: SceneSpec, world: WorldState) -> SuccessReport:
    problem = _on_table(task, scene, world)
    if problem:
        return SuccessReport(False, problem)
    goal = target_xy(world.positions[str(task.place)], task.relation, scene.viewpoint)
    err = float(np.linalg.norm(world.positions[task.pick][:2] - goal))
    if err > RELATION_TOLERANCE:
        return SuccessReport(False, f"{err:.3f} m from the {task.relation} target")
    return SuccessReport(True, f"{err:.3f} m from the {task.relation} target")


def _check_next_to(task: TaskSpec, scene: SceneSpec, world: WorldState) -> SuccessReport:
    problem = _on_table(task, scene, world)
    if problem:
        return SuccessReport(False, problem)
    dist = float(np.linalg.norm(world.positions[task.pick][:2] - world.positions[str(task.place)][:2]))
    if abs(dist - RELATION_DISTANCE) > RELATION_TOLERANCE:
        return SuccessReport(False, f"{dist:.3f} m from the reference (want {RELATION_DISTANCE} +- {RELATION_TOLERANCE})")
    return SuccessReport(True, f"{dist:.3f} m from the reference")


Checker = Callable[[TaskSpec, SceneSpec, WorldState], SuccessReport]
#: Task kind (``TaskSpec.kind``) -> check.
CHECKS: dict[str, Checker] = {
    "pick": _check_pick,
    "place_in": _check_in,
    "place_on": _check_on,
    "place_next_to": _check_next_to,
    **{f"place_{r}": _check_direction for r in DIRECTIONAL_RELATIONS},
}


def check_success(task: TaskSpec, scene: SceneSpec, world: WorldState) -> SuccessReport:
    """Has ``task`` been achieved in ``world``? Placements also need the object released, at rest."""
    if task.kind not in CHECKS:
        raise KeyError(f"no success check for task kind {task.kind!r}")
    disturbed = _disturbed(task, world)
    if disturbed:
        return SuccessReport(False, f"knocked over/pushed {', '.join(disturbed)}")
    if task.place is not None:
        problem = _released(task, world)
        if problem:
            return SuccessReport(False, problem)
    return CHECKS[task.kind](task, scene, world)
