"""Sample feasible tasks for a scene (all randomness from the caller's generator).

A task is feasible when the expert could do it in principle: the picked object is graspable,
``in`` targets a bowl it fits in, ``on`` targets a flat-topped object (cube or cylinder), and a
relation's spot (``sim/relations.py``: beside, between, in a region) lies on the table and is
clear of every other object. A task that is already achieved in the starting scene (the object
already stands where it should) is not feasible.

``TASK_KINDS`` (what ``sample_task`` draws from when no kind is asked for) is the pick and the
seven single-reference placements; ``place_between`` and ``place_region`` are sampled only when
asked for by name, so seeds drawn without a kind give the tasks they always gave.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from sim.objects import object_geometry
from sim.relations import REGIONS, judge
from sim.scene import TABLE_X, TABLE_Y, SceneSpec, sample_scene
from sim.success import footprint, task_spots
from sim.tasks import RELATIONS, TaskSpec
from vocab.words import GRASPABLE_SHAPES

#: Every task kind the simulator can check and the expert can do, drawn when no kind is given.
TASK_KINDS: tuple[str, ...] = ("pick",) + tuple(f"place_{r}" for r in RELATIONS)
#: Kinds sampled only when asked for by name (a second reference; a table region).
EXTRA_TASK_KINDS: tuple[str, ...] = ("place_between", "place_region")
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
    if not task.places:
        return True
    if task.pick in task.references:
        return False
    if task.relation in ("in", "on"):
        ref = scene.get(str(task.place))
        if task.relation == "in":
            return ref.shape == "bowl" and object_geometry(pick).radius < object_geometry(ref).inner_radius - 0.01
        return ref.shape in FLAT_TOPPED
    start = {o.id: np.asarray(o.position, dtype=np.float64) for o in scene.objects}
    refs = [footprint(scene, r, start[r]) for r in task.references]
    if judge(task.relation, footprint(scene, task.pick, start[task.pick]), refs, task.region, scene.viewpoint).ok:
        return False  # already there: nothing to do
    return any(target_is_clear(scene, task, t) for t in task_spots(scene, task, start))


def _options(scene: SceneSpec, kind: str) -> list[TaskSpec]:
    """Every task of ``kind`` over the scene's objects (feasible or not), in a fixed order."""
    relation = kind.removeprefix("place_")
    out: list[TaskSpec] = []
    for pick in scene.objects:
        if kind == "pick":
            out.append(TaskSpec(pick=pick.id))
        elif relation == "region":
            out.extend(TaskSpec(pick=pick.id, region=r) for r in REGIONS)  # type: ignore[arg-type]
        else:
            for ref in scene.objects:
                if ref.id == pick.id:
                    continue
                if relation != "between":
                    out.append(TaskSpec(pick=pick.id, place=ref.id, relation=relation))  # type: ignore[arg-type]
                    continue
                out.extend(TaskSpec(pick=pick.id, place=ref.id, place2=other.id, relation="between")
                           for other in scene.objects if other.id not in (pick.id, ref.id))
    return out


def sample_task(rng: np.random.Generator, scene: SceneSpec, kind: Optional[str] = None) -> Optional[TaskSpec]:
    """A random feasible task of ``kind`` (any of ``TASK_KINDS`` when None) for ``scene``, or None."""
    kinds = [kind] if kind is not None else list(TASK_KINDS)
    options: list[TaskSpec] = []
    for k in kinds:
        if k not in TASK_KINDS + EXTRA_TASK_KINDS:
            raise KeyError(f"unknown task kind {k!r}; known: {TASK_KINDS + EXTRA_TASK_KINDS}")
        options.extend(_options(scene, k))
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
