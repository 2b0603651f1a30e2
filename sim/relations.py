"""The one geometry of spatial relations: where a relation puts an object, and whether it is there.

Everything that places or judges a relation uses this module: the simulator's success check
(``sim/success.py``), feasibility and sampling (``sim/task_sampling.py``), the scripted expert
(``sim/expert.py``), and the agent's composed placement spot and its own look afterwards
(``agent/relation_spot.py``, ``agent/outcome_check.py``), which feed it PERCEIVED objects.
Positions are (x, y) metres in the robot base frame (x forward, y to the robot's left); whose
left/front the words mean follows ``viewpoint`` exactly as documented in ``sim/success.py``.

Objects are :class:`Footprint` discs: centre and footprint radius (the circle an object covers
on the table: ``sim.scene.footprint_radius`` in the simulator, half the measured extent for a
perceived object).

* **beside** (``left_of``, ``right_of``, ``in_front_of``, ``behind``, ``next_to``): the object
  stands beside the reference with a small gap between the two footprints, edge to edge,
  whatever the reference's size: the spot is ``GAP_M`` beyond both radii in the relation's
  direction (``next_to``: any of the four sides). Judged: the edge-to-edge gap is within
  ``MIN_GAP_M`` (closer counts as touching, or on/in it) .. ``MAX_GAP_M`` (farther is no longer
  beside it), and for a direction the object's centre lies within ``CONE_DEG`` of it.
* **between** two references: the spot is the middle of the free stretch between their
  footprints on the line joining their centres. Judged: the object's centre projects onto that
  stretch with at least ``MIN_GAP_M`` to each footprint, no more than ``BETWEEN_OFF_LINE_M``
  off the line.
* **region** of the table (``REGIONS``): the table (``sim.scene.TABLE_X`` x ``TABLE_Y``) cut
  into thirds along the speaker's left-right and back-front; ``left_side`` is the left third,
  ``front`` the third nearest the speaker, ``middle`` the centre cell, ``front_left`` a corner
  cell, and so on. Judged: the object's centre lies in the region's rectangle.
* **in** a bowl (judged in ``sim/success.py``: resting on its floor inside the wall): the spot is
  the bowl's centre when nothing lies in it; else, of the centre and ``IN_BOWL_RING_SPOTS`` spots
  on a ring as far out as the object fits ``IN_BOWL_WALL_CLEARANCE_M`` inside the wall, the one
  farthest from what already lies in it (:func:`free_spot_in`): a second block let go over the
  first would rest on it, not on the floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Literal, Optional, Sequence

import numpy as np

from sim.scene import TABLE_X, TABLE_Y

#: Aimed gap (m) between the object's footprint and the reference's, edge to edge: wide enough
#: for the fingers (about 1.2 cm thick, opening a little wider than the object) to let go.
GAP_M = 0.035
#: Judged gap limits (m): closer than MIN touches (or sits on/in the reference), farther than MAX
#: is no longer "beside" it.
MIN_GAP_M = 0.005
MAX_GAP_M = 0.08
#: A directional relation holds within this angle (degrees) of its direction.
CONE_DEG = 40.0
#: "between": the object's centre at most this far (m) off the line joining the references.
BETWEEN_OFF_LINE_M = 0.04
#: Region spots are tried on a grid of this pitch (m), at least this far inside the region (m).
REGION_GRID_M = 0.02
REGION_INSET_M = 0.02
#: A spot in a bowl keeps the object's footprint this far (m) inside the wall; candidate spots on
#: the ring around the centre.
IN_BOWL_WALL_CLEARANCE_M = 0.006
IN_BOWL_RING_SPOTS = 12

#: Viewpoint -> relation -> unit (dx, dy) in the robot base frame (see sim/success.py).
DIRECTIONS: dict[str, dict[str, tuple[float, float]]] = {
    "user": {"left_of": (0.0, -1.0), "right_of": (0.0, 1.0), "in_front_of": (1.0, 0.0), "behind": (-1.0, 0.0)},
    "robot": {"left_of": (0.0, 1.0), "right_of": (0.0, -1.0), "in_front_of": (-1.0, 0.0), "behind": (1.0, 0.0)},
}
DIRECTIONAL_RELATIONS: tuple[str, ...] = ("left_of", "right_of", "in_front_of", "behind")
BESIDE_RELATIONS: tuple[str, ...] = DIRECTIONAL_RELATIONS + ("next_to",)

Region = Literal["left_side", "right_side", "middle", "front", "back",
                 "front_left", "front_right", "back_left", "back_right"]
#: Region name -> (left-right thirds, back-front thirds) it spans, in the speaker's frame:
#: 0 = left / back, 1 = centre, 2 = right / front.
REGIONS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "left_side": ((0,), (0, 1, 2)), "right_side": ((2,), (0, 1, 2)),
    "back": ((0, 1, 2), (0,)), "front": ((0, 1, 2), (2,)), "middle": ((1,), (1,)),
    "back_left": ((0,), (0,)), "back_right": ((2,), (0,)),
    "front_left": ((0,), (2,)), "front_right": ((2,), (2,)),
}


@dataclass(frozen=True)
class Footprint:
    """The disc an object covers on the table: centre (x, y) metres, base frame; radius metres."""

    xy: tuple[float, float]
    radius: float

    @property
    def centre(self) -> np.ndarray:
        return np.asarray(self.xy[:2], dtype=np.float64)


@dataclass(frozen=True)
class Judgement:
    """Whether an object stands where a relation puts it, and a short reason with figures."""

    ok: bool
    reason: str


# -- where a relation puts the object ------------------------------------------------------------


def beside_spots(ref: Footprint, relation: str, radius: float, viewpoint: str = "user") -> list[np.ndarray]:
    """Spots (x, y) beside ``ref`` for an object of footprint ``radius``: one for a direction,
    the four sides (robot frame order) for ``next_to``; ``GAP_M`` between the footprints."""
    reach = ref.radius + radius + GAP_M
    units = DIRECTIONS["robot"].values() if relation == "next_to" else [DIRECTIONS[viewpoint][relation]]
    return [ref.centre + reach * np.asarray(u, dtype=np.float64) for u in units]


def lying_in(bowl: Footprint, inner_radius: float, others: Sequence[Sequence[float]]) -> list[np.ndarray]:
    """The (x, y) of ``others`` whose centres lie inside ``bowl``'s wall (``inner_radius``)."""
    xys = [np.asarray(xy[:2], dtype=np.float64) for xy in others]
    return [xy for xy in xys if float(np.linalg.norm(xy - bowl.centre)) < inner_radius]


def free_spot_in(bowl: Footprint, inner_radius: float, radius: float,
                 inside: Sequence[Sequence[float]]) -> np.ndarray:
    """Where an object of footprint ``radius`` goes into ``bowl`` (inner wall radius
    ``inner_radius``), given the (x, y) of what already lies in it (module docstring, "in")."""
    centre = bowl.centre
    held = [np.asarray(xy[:2], dtype=np.float64) for xy in inside]
    if not held:
        return centre.copy()
    ring = max(0.0, inner_radius - radius - IN_BOWL_WALL_CLEARANCE_M)
    angles = np.linspace(0.0, 2.0 * math.pi, IN_BOWL_RING_SPOTS, endpoint=False)
    cands = [centre] + [centre + ring * np.array([math.cos(a), math.sin(a)]) for a in angles]
    best = max(cands, key=lambda xy: min(float(np.linalg.norm(xy - o)) for o in held))
    return np.asarray(best, dtype=np.float64)


def between_spot(a: Footprint, b: Footprint) -> np.ndarray:
    """The middle of the free stretch between the footprints of ``a`` and ``b`` (an object
    centred there has the same gap to both, whatever its own size)."""
    d = b.centre - a.centre
    length = float(np.linalg.norm(d))
    if length < 1e-9:
        return a.centre.copy()
    along = (length + a.radius - b.radius) / 2.0  # from a's centre
    return a.centre + d / length * along


def region_bounds(region: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """((right0, right1), (front0, front1)): the region's extent in the speaker's coordinates
    (metres along their right and front directions; see :func:`speaker_coords`), any viewpoint."""
    if region not in REGIONS:
        raise KeyError(f"unknown table region {region!r}; known: {', '.join(REGIONS)}")
    cols, rows = REGIONS[region]
    # Thirds of the table along the speaker's right and front (speaker_coords maps either
    # viewpoint onto these same ranges: TABLE_Y left to right, TABLE_X back to front).
    right_edges = np.linspace(TABLE_Y[0], TABLE_Y[1], 4)
    front_edges = np.linspace(TABLE_X[0], TABLE_X[1], 4)
    return ((float(right_edges[min(cols)]), float(right_edges[max(cols) + 1])),
            (float(front_edges[min(rows)]), float(front_edges[max(rows) + 1])))


def speaker_coords(xy: Sequence[float], viewpoint: str = "user") -> tuple[float, float]:
    """(metres to the speaker's right, metres towards the speaker) of base-frame ``xy``, measured
    so that the table spans ``TABLE_Y`` left to right and ``TABLE_X`` back to front."""
    x, y = float(xy[0]), float(xy[1])
    if viewpoint == "robot":  # the robot's right is -y, its front (nearer it) is -x
        return -y, TABLE_X[0] + TABLE_X[1] - x
    return y, x


def _base_xy(right: float, front: float, viewpoint: str) -> np.ndarray:
    """Inverse of :func:`speaker_coords`."""
    if viewpoint == "robot":
        return np.array([TABLE_X[0] + TABLE_X[1] - front, -right])
    return np.array([front, right])


def region_spots(region: str, viewpoint: str = "user") -> list[np.ndarray]:
    """Spots (x, y) inside ``region`` on a ``REGION_GRID_M`` grid, the region's centre first,
    then outwards (a caller takes the first clear one)."""
    (r0, r1), (f0, f1) = region_bounds(region)
    rights = np.arange(r0 + REGION_INSET_M, r1 - REGION_INSET_M + 1e-9, REGION_GRID_M)
    fronts = np.arange(f0 + REGION_INSET_M, f1 - REGION_INSET_M + 1e-9, REGION_GRID_M)
    centre = np.array([(r0 + r1) / 2.0, (f0 + f1) / 2.0])
    grid = [np.array([r, f]) for r in rights for f in fronts]
    grid.sort(key=lambda p: (round(float(np.linalg.norm(p - centre)), 6), float(p[0]), float(p[1])))
    return [_base_xy(float(p[0]), float(p[1]), viewpoint) for p in [centre, *grid]]


def spots(relation: str, radius: float, refs: Sequence[Footprint], region: Optional[str] = None,
          viewpoint: str = "user") -> list[np.ndarray]:
    """Candidate spots (x, y) for an object of footprint ``radius``, in preference order.

    ``refs``: the reference (one; two for ``between``; none for ``region``). ``in``/``on``: the
    reference's centre."""
    if relation in ("in", "on"):
        return [refs[0].centre.copy()]
    if relation in BESIDE_RELATIONS:
        return beside_spots(refs[0], relation, radius, viewpoint)
    if relation == "between":
        return [between_spot(refs[0], refs[1])]
    if relation == "region":
        if region is None:
            raise ValueError("relation 'region' needs a region name")
        return region_spots(region, viewpoint)
    raise KeyError(f"unknown relation {relation!r}")


def choose_spot(candidates: Sequence[np.ndarray], is_clear: Callable[[np.ndarray], bool],
                toward: Optional[Sequence[float]] = None) -> np.ndarray:
    """The first clear candidate (nearest ``toward`` first, when given: the shortest carry for
    ``next_to``); the first candidate when none is clear."""
    order = list(candidates)
    if toward is not None:
        t = np.asarray(toward[:2], dtype=np.float64)
        order.sort(key=lambda c: float(np.linalg.norm(c - t)))
    return next((c for c in order if is_clear(c)), order[0])


# -- is it there? ---------------------------------------------------------------------------------


def edge_gap(obj: Footprint, ref: Footprint) -> float:
    """Metres between the two footprints, edge to edge (negative: they overlap)."""
    return float(np.linalg.norm(obj.centre - ref.centre)) - obj.radius - ref.radius


def judge_beside(obj: Footprint, ref: Footprint, relation: str, viewpoint: str = "user",
                 slack: float = 0.0, touch_slack: Optional[float] = None) -> Judgement:
    gap = edge_gap(obj, ref)
    if gap < MIN_GAP_M - (slack if touch_slack is None else touch_slack):
        return Judgement(False, f"touching or on it ({100 * gap:.1f} cm edge to edge)")
    if gap > MAX_GAP_M + slack:
        return Judgement(False, f"{100 * gap:.1f} cm from it, edge to edge: not beside it (at most {100 * MAX_GAP_M:.0f} cm)")
    if relation in DIRECTIONAL_RELATIONS:
        d = obj.centre - ref.centre
        unit = np.asarray(DIRECTIONS[viewpoint][relation], dtype=np.float64)
        angle = math.degrees(math.atan2(abs(float(d[0] * unit[1] - d[1] * unit[0])), float(d @ unit)))
        if angle > CONE_DEG:
            return Judgement(False, f"{angle:.0f} deg off the {relation} direction (at most {CONE_DEG:.0f})")
        return Judgement(True, f"{100 * gap:.1f} cm gap, {angle:.0f} deg off the {relation} direction")
    return Judgement(True, f"{100 * gap:.1f} cm gap")


def judge_between(obj: Footprint, a: Footprint, b: Footprint, slack: float = 0.0,
                  touch_slack: Optional[float] = None) -> Judgement:
    d = b.centre - a.centre
    length = float(np.linalg.norm(d))
    u = d / max(length, 1e-9)
    rel = obj.centre - a.centre
    along, off = float(rel @ u), abs(float(rel[0] * u[1] - rel[1] * u[0]))
    touch = slack if touch_slack is None else touch_slack
    lo, hi = a.radius + obj.radius + MIN_GAP_M - touch, length - b.radius - obj.radius - MIN_GAP_M + touch
    if off > BETWEEN_OFF_LINE_M + slack:
        return Judgement(False, f"{100 * off:.1f} cm off the line between them (at most {100 * BETWEEN_OFF_LINE_M:.0f} cm)")
    if not lo <= along <= hi:
        return Judgement(False, f"not in the free stretch between them ({100 * along:.1f} cm along, "
                                f"want {100 * lo:.1f}..{100 * hi:.1f})")
    return Judgement(True, f"between them, {100 * off:.1f} cm off the line")


def judge_region(obj: Footprint, region: str, viewpoint: str = "user", slack: float = 0.0) -> Judgement:
    (r0, r1), (f0, f1) = region_bounds(region)
    right, front = speaker_coords(obj.xy, viewpoint)
    # Metres outside the region's rectangle (0 inside it).
    outside = math.hypot(max(r0 - right, 0.0, right - r1), max(f0 - front, 0.0, front - f1))
    if outside <= slack:
        return Judgement(True, f"inside the {region.replace('_', ' ')} region")
    return Judgement(False, f"{100 * outside:.1f} cm outside the {region.replace('_', ' ')} region")


def judge(relation: str, obj: Footprint, refs: Sequence[Footprint], region: Optional[str] = None,
          viewpoint: str = "user", slack: float = 0.0, touch_slack: Optional[float] = None) -> Judgement:
    """Does ``obj`` stand ``relation`` the ``refs`` (or in ``region``)? Beside, between and
    region only: in/on need heights (``sim/success.py``, ``agent/outcome_check.py``).
    ``slack`` (m) widens every distance limit: a judge from perception that decides a retry
    leans to "done" (``agent/outcome_check.py``); the simulator's check uses none.
    ``touch_slack`` (m; None: ``slack``) widens only the closest-gap limits (touching)."""
    if relation in BESIDE_RELATIONS:
        return judge_beside(obj, refs[0], relation, viewpoint, slack, touch_slack)
    if relation == "between":
        return judge_between(obj, refs[0], refs[1], slack, touch_slack)
    if relation == "region":
        if region is None:
            raise ValueError("relation 'region' needs a region name")
        return judge_region(obj, region, viewpoint, slack)
    raise KeyError(f"no footprint judgement for relation {relation!r}")
