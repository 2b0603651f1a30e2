"""Sample feasible tasks for a scene (all randomness from the caller's generator).

A task is feasible when the expert could do it in principle: the picked object is graspable,
``in`` targets a bowl, ``on`` targets a flat-topped object (cube or cylinder), and a relation's
target spot lies on the table and is clear of every other object. A task that is already
achieved in the starting scene (the object already lies where it should) is not feasible.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from sim.objects import object_geometry
from sim.scene import GRASPABLE_SHAPES, TABLE_X, TABLE_Y, SceneSpec, sample_scene
from sim.success import RELATION_DISTANCE, RELATION_TOLERANCE, relation_targets
from sim.tasks import RELATIONS, TaskSpec

#: Every task kind the simulator can check and the expert can do.
TASK_KINDS: tuple[str, ...] = ("pick",) + tuple(f"place_{r}" for r in RELATIONS)
#: Shapes something can be put "on" (a ball's top is not flat).
FLAT_TOPPED = ("cube", "cylinder")
#: Extra clearance (metres) between a placed object and its neighbours: room for the fingers
#: (about 1.2 cm thick, opening a little wider than the object) to lower and let go.
PLACE_CLEARANCE = 0.03
#: How far outside the sampling region (metres) a relation target may fall and still be on the table.
TABLE_MARGIN = 0.05


def target_is_clear(scene: SceneSpec, task: TaskSpec, xy: np.ndarray) -> bool:
    """True when ``xy`` is on the table and the picked object fits there without touching others."""
    if not (TABLE_X[0] - TABLE_MARGIN <= xy[0] <= TABLE_X[1] + TABLE_MARGIN and TABLE_Y[0] - TABLE_MARGIN <= xy[1] <= TABLE_Y[1] + TABLE_MARGIN):
        return False
    r = object_geometry(scene.get(task.pick)).radius
    for other in scene.objects:
        if other.id == task.pick:
            continue
        gap = float(np.linalg.norm(np.asarray(other.position) - xy)) - r - object_geometry(other).radius
        if gap < PLACE_CLEARANCE:
            return False
    return True


def is_feasible(scene: SceneSpec, task: TaskSpec) -> bool:
    """Can ``task`` be done in ``scene`` (see module docstring)?"""
    pick = scene.get(task.pick)
    if pick.shape not in GRASPABLE_SHAPES:
        return False
    if task.place is None:
        return True
    if task.place == task.pick:
        return False
    ref = scene.get(task.place)
    if task.relation == "in":
        return ref.shape == "bowl" and object_geometry(pick).radius < object_geometry(ref).inner_radius - 0.01
    if task.relation == "on":
        return ref.shape in FLAT_TOPPED
    ref_xy, pick_xy = np.asarray(ref.position), np.asarray(pick.position)
    if task.relation == "next_to":
        if abs(float(np.linalg.norm(pick_xy - ref_xy)) - RELATION_DISTANCE) <= RELATION_TOLERANCE:
            return False  # already next to it: nothing to do
    targets = relation_targets(ref_xy, task.relation, scene.viewpoint)
    if task.relation != "next_to" and float(np.linalg.norm(pick_xy - targets[0])) <= RELATION_TOLERANCE:
        return False  # already there
    return any(target_is_clear(scene, task, t) for t in targets)


def sample_task(rng: np.random.Generator, scene: SceneSpec, kind: Optional[str] = None) -> Optional[TaskSpec]:
    """A random feasible task of ``kind`` (any kind when None) for ``scene``, or None if none is."""
    kinds = [kind] if kind is not None else list(TASK_KINDS)
    options: list[TaskSpec] = []
    for k in kinds:
        if k not in TASK_KINDS:
            raise KeyError(f"unknown task kind {k!r}; known: {TASK_KINDS}")
        for pick in scene.objects:
            if k == "pick":
                options.append(TaskSpec(pick=pick.id))
                continue
            for ref in scene.objects:
                if ref.id != pick.id:
                    options.append(TaskSpec(pick=pick.id, place=ref.id, relation=k.removeprefix("place_")))  # type: ignore[arg-type]
    feasible = [t for t in options if is_feasible(scene, t)]
    if not feasible:
        return None
    return feasible[int(rng.integers(len(feasible)))]


def sample_scene_and_task(
    rng: np.random.Generator, kind: Optional[str] = None, n_objects: int = 4, max_tries: int = 100, **scene_kwargs
) -> tuple[SceneSpec, TaskSpec]:
    """Sample scenes from ``rng`` until one admits a feasible task of ``kind``; return both."""
    for _ in range(max_tries):
        scene = sample_scene(rng, n_objects, **scene_kwargs)
        task = sample_task(rng, scene, kind)
        if task is not None:
            return scene, task
    raise RuntimeError(f"no feasible {kind or 'any'} task in {max_tries} sampled scenes")
