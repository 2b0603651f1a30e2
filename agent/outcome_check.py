"""Did the motion do what was asked? Judged from a new look at the table, as a real arm must.

The simulator's success check (``sim/success.py``) reads true poses; a robot on a real table has
only its camera and its joints. :func:`check_outcome` compares the perceived scene before the
motion with a perceived scene after it, and the arm's proprio state:

* **find the object again** (:func:`find_again`): the picked object is the one of its colour
  that is not another same-colour object still where that one stood; colour, not shape, because
  perception reads a cube sitting in a bowl as a cylinder (or a bowl). A reference not seen any
  more (hidden behind what was put in front of it) is taken to stand where it stood;
* **pick**: the hand holds something (proprio: commanded closed, fingers held apart) at least
  ``lift_m`` above where the object stood, and the object no longer stands there;
* **in a bowl**: the hand let go, and the object's centre is within the bowl's inner radius
  (half its measured extent less the wall) of the bowl's centre, low enough to rest on its floor;
* **on an object**: let go, within the reference's measured half extent, its top where the
  reference's top plus its own height puts it;
* **beside, between, in a region** ("left of", "next to", "between", "in the front right corner
  of the table"): let go, on the table, where the one relation geometry (``sim/relations.py``)
  says, judged on the perceived footprints (``agent.relation_spot.perceived_footprint``) of the
  object and the references where they are now, with ``margin_m`` of slack (none toward
  touching: ``touch_margin_m``).

The thresholds lean to "done" (a margin beyond the simulator's own) because the check decides a
retry, and retrying a placement that had worked takes it apart again. Measured against the
simulator's verdict in docs/RESULTS.md ("Pick and place"). Nothing here reads the
simulator's poses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Optional

import numpy as np

from common.proprio import Proprio, holds_something

from perception.types import PerceivedObject, SceneObservation
from sim.relations import judge

from agent.dialogue import placement_words
from agent.relation_spot import perceived_footprint, spot_xy


@dataclass(frozen=True)
class OutcomeSettings:
    """Distances in metres."""

    lift_m: float = 0.04  # a pick's object this much higher than before (the task says 5 cm)
    unmoved_m: float = 0.03  # a same-colour object this close to where a twin stood is that twin
    bowl_wall_m: float = 0.008  # the bowl's inner radius = half its measured extent less this
    margin_m: float = 0.01  # added to every distance limit: the check decides a retry (module doc)
    # ...except the touching one ("next to" needs a gap): footprints are measured to ~2 mm, and a
    # touch the look lets pass is never tried again.
    touch_margin_m: float = 0.0
    rest_m: float = 0.02  # an object's top this close to where resting puts it counts as resting


@dataclass(frozen=True)
class OutcomeCheck:
    """The verdict of a look after a motion."""

    done: bool
    reason: str  # "the red cube is 9 cm from the middle of the green bowl"
    pick: Optional[PerceivedObject]  # the picked object in the new look (None: not found)
    place: Optional[PerceivedObject]  # the reference in the new look (None: a pick; as before when not seen)
    #: Where a placed object is, less where it should be (x, y metres; None: not a placement, or
    #: either object not found). Aiming a retry off by it was tried and lost episodes.
    miss: Optional[tuple[float, float]] = None


def find_again(obj: PerceivedObject, before: SceneObservation, after: SceneObservation,
               near_xy: Optional[np.ndarray] = None, settings: OutcomeSettings = OutcomeSettings(),
               exclude: Optional[PerceivedObject] = None) -> Optional[PerceivedObject]:
    """``obj`` (perceived in ``before``) in the new look ``after``, or None.

    Candidates share its colour (a cube in a bowl can read as a cylinder, or a bowl), and are not
    ``exclude`` (the object already found as the one moved, when finding its reference); of those
    that look like another same-colour object (a twin, or the black bowl the black cube was put
    in: same shape, similar extent) standing where that object stood in ``before``, the closest
    in extent is that object (:func:`_claim`).
    Of the rest: the one still (or straight above) where ``obj`` stood; else, of its shape and
    extent if any are (a small cube is not the large cube it was set on), else of its shape, the
    one nearest ``near_xy`` (where the hand let go), else nearest where ``obj`` stood.
    """
    others = [o for o in before.objects if o.color == obj.color and o.index != obj.index]
    claimed = [_claim(t, after, settings) for t in others]
    alike = [o for o in after.objects if o.color == obj.color and o is not exclude
             and not any(o is c for c in claimed)]
    if not alike:
        return None
    unmoved = [o for o in alike if _dist(o.position, obj.position) <= settings.unmoved_m]
    if unmoved:  # still (or straight above) where it stood; a lifted cube can read as a ball
        return min(unmoved, key=lambda o: _dist(o.position, obj.position))
    pool = [o for o in alike if _looks_like(o, obj)] or [o for o in alike if o.shape == obj.shape] or alike
    anchor = np.asarray(near_xy[:2] if near_xy is not None else obj.position[:2], dtype=np.float64)
    return min(pool, key=lambda o: _dist(o.position, anchor))


def _claim(other: PerceivedObject, after: SceneObservation, settings: OutcomeSettings) -> Optional[PerceivedObject]:
    """The object of the new look that is ``other`` still where it stood: of those that look like
    it there, the one closest in extent. One only: the cyan cube set in the cyan bowl can read as
    a small bowl there too, and is then the object looked for, not a second bowl."""
    there = [o for o in after.objects if o.color == other.color and _looks_like(o, other)
             and _dist(o.position, other.position) <= settings.unmoved_m]
    return min(there, key=lambda o: abs(float(o.extent or 0.0) - float(other.extent or 0.0)), default=None)


def check_outcome(target: Any, before: SceneObservation, after: SceneObservation, state: np.ndarray,
                  settings: OutcomeSettings = OutcomeSettings()) -> OutcomeCheck:
    """Whether ``target`` (an ``agent.context.ActTarget``: pick, place, relation, viewpoint)
    looks done in ``after``, with ``state`` the arm's proprio state (sim/arm.py) after the motion."""
    state = np.asarray(state, dtype=np.float64)
    pick_before, place_before = target.pick, target.place
    pick = find_again(pick_before, before, after, near_xy=Proprio.from_array(state).xyz[:2], settings=settings)
    name = f"the {pick_before.color} {pick_before.shape}"
    relation = getattr(target, "relation", None) or "in"
    if place_before is None and relation != "region":
        return _check_pick(pick, pick_before, state, name, settings)
    # Not found: hidden behind what was set in front of it (the camera faces the person, so "in
    # front of" is between it and the camera); it is taken to stand where it stood.
    place = None if place_before is None else \
        find_again(place_before, before, after, settings=settings, exclude=pick) or place_before
    place2_before = getattr(target, "place2", None)
    place2 = None if place2_before is None else \
        find_again(place2_before, before, after, settings=settings, exclude=pick) or place2_before
    ref = f"the {place_before.color} {place_before.shape}" if place_before is not None else "the table"
    if Proprio.from_array(state).closed:
        return OutcomeCheck(False, f"{name} is still in my hand" if holds_something(state)
                            else "my hand is still closed", pick, place)
    if pick is None:
        return OutcomeCheck(False, f"I can't see {name} any more", pick, place)
    own_height = float(pick_before.height or 0.0)
    now = _at_new_look(target, place, place2)
    spot = np.asarray(place.position[:2], dtype=np.float64) if relation in ("in", "on") and place is not None \
        else spot_xy(now)
    miss = (float(pick.position[0] - spot[0]), float(pick.position[1] - spot[1]))
    if relation == "in":
        return replace(_check_in(pick, place, own_height, name, ref, settings), miss=miss)
    if relation == "on":
        return replace(_check_on(pick, place, own_height, float(place_before.height or 0.0), name, ref, settings),
                       miss=miss)
    ref2 = f"the {place2_before.color} {place2_before.shape}" if place2_before is not None else None
    where = placement_words(relation, ref, ref2, getattr(target, "region", None))
    return replace(_check_beside(pick, now, own_height, name, where, place, settings), miss=miss)


def _at_new_look(target: Any, place: Optional[PerceivedObject], place2: Optional[PerceivedObject]) -> "_Placed":
    """``target`` with its references where the new look found them (the object as it was)."""
    return _Placed(pick=target.pick, place=place, place2=place2, relation=target.relation,
                   region=getattr(target, "region", None), viewpoint=getattr(target, "viewpoint", "user"))


@dataclass(frozen=True)
class _Placed:
    """The fields of an ``ActTarget`` the relation geometry reads."""

    pick: PerceivedObject
    place: Optional[PerceivedObject]
    place2: Optional[PerceivedObject]
    relation: str
    region: Optional[str]
    viewpoint: str


def aim_again(target: Any, after: SceneObservation, verdict: OutcomeCheck,
              holding: bool) -> tuple[SceneObservation, OutcomeCheck]:
    """The look and verdict a retry of ``target`` aims with, when the hand still holds the object
    (``holding``, proprio): a reference it hides is put back where it stood
    (:func:`with_hidden_reference`), and the held object is described as the first look saw it
    (:func:`as_held_before`). With the hand empty, the object keeps the new look's reading but
    not a greater height than the first look's (:func:`own_height`)."""
    if not holding:
        if verdict.pick is None:
            return after, verdict
        after, pick = own_height(after, verdict.pick, target.pick)
        return after, replace(verdict, pick=pick)
    if target.place is not None and verdict.place is not None and verdict.place not in after.objects:
        after = with_hidden_reference(after, verdict.place)
        verdict = replace(verdict, place=after.objects[-1])
    if verdict.pick is not None:
        after, pick = as_held_before(after, verdict.pick, target.pick)
        verdict = replace(verdict, pick=pick)
    return after, verdict


def own_height(after: SceneObservation, found: PerceivedObject, before: PerceivedObject) -> tuple[SceneObservation, PerceivedObject]:
    """The new look with ``found`` no taller than ``before`` was: an object's own height never
    grows, and perception measures a height from the table up, so a ball left on the cube already
    in the bowl reads as tall as both, and a retry judging with that height would pass it as
    resting on the floor. One that fell over keeps its lower reading."""
    if found.height is None or before.height is None or found.height <= before.height:
        return after, found
    return _replaced(after, found, {"height": before.height})


def with_hidden_reference(after: SceneObservation, reference: PerceivedObject) -> SceneObservation:
    """The new look plus ``reference`` (perceived before, hidden from this look), numbered after
    the rest: what a retry aims at when the hand still holds the object above the reference and
    hides it from the camera (the reference has not moved; :func:`check_outcome` judged it where
    it stood)."""
    index = max((o.index for o in after.objects), default=0) + 1
    return after.model_copy(update={"objects": [*after.objects, reference.model_copy(update={"index": index})]})


def as_held_before(after: SceneObservation, found: PerceivedObject, before: PerceivedObject) -> tuple[SceneObservation, PerceivedObject]:
    """The new look with ``found`` (:func:`find_again`'s answer for ``before``), an object the
    hand still holds, described as the first look saw it: colour, shape and size words, extent
    and height, where it is now. Held up, perception measures hand and object in the air (a
    cylinder reads as a ball, its height as its top above the table), so a retry would name it
    wrongly and judge its own result with that height. Objects on the table keep what the new
    look measured: their boxes steer the retry, and one that fell over is lower and wider now."""
    return _replaced(after, found, {"color": before.color, "shape": before.shape, "size": before.size,
                                    "extent": before.extent, "height": before.height})


def _replaced(after: SceneObservation, found: PerceivedObject, update: dict[str, Any]) -> tuple[SceneObservation, PerceivedObject]:
    """``after`` with ``found`` re-described by ``update``, and that new description."""
    same = found.model_copy(update=update)
    return after.model_copy(update={"objects": [same if o is found else o for o in after.objects]}), same


def _check_beside(pick: PerceivedObject, target: _Placed, own_height: float, name: str, where: str,
                  place: Optional[PerceivedObject], settings: OutcomeSettings) -> OutcomeCheck:
    refs = [perceived_footprint(o) for o in (target.place, target.place2) if o is not None]
    verdict = judge(target.relation, perceived_footprint(pick), refs, target.region, target.viewpoint,
                    slack=settings.margin_m, touch_slack=settings.touch_margin_m)
    if not verdict.ok:
        return OutcomeCheck(False, f"{name} is not {where}: {verdict.reason}", pick, place)
    if pick.height is not None and pick.height > own_height + settings.rest_m:
        return OutcomeCheck(False, f"{name} is not standing on the table", pick, place)
    return OutcomeCheck(True, f"{name} is {where} ({verdict.reason})", pick, place)


def _check_pick(pick: Optional[PerceivedObject], before: PerceivedObject, state: np.ndarray, name: str,
                settings: OutcomeSettings) -> OutcomeCheck:
    """Proprio says whether the hand holds something and how high; the look only whether the
    object still stands where it stood (perception places a lifted object too low: it measures
    heights from the table up, so its own height is no judge of a lift)."""
    if not holds_something(state):
        return OutcomeCheck(False, f"I'm not holding {name}", pick, None)
    if pick is not None and _dist(pick.position, before.position) <= settings.unmoved_m and \
            (pick.height or 0.0) <= (before.height or 0.0) + settings.rest_m:
        return OutcomeCheck(False, f"{name} is still where it was", pick, None)
    risen = Proprio.from_array(state).z - float(before.position[2])
    if risen < settings.lift_m:
        return OutcomeCheck(False, f"my hand is only {_cm(risen)} above where {name} stood", pick, None)
    return OutcomeCheck(True, f"{name} is in my hand, {_cm(risen)} up", pick, None)


def _check_in(pick: PerceivedObject, bowl: PerceivedObject, own_height: float, name: str, ref: str,
              settings: OutcomeSettings) -> OutcomeCheck:
    off = _dist(pick.position, bowl.position)
    inner = 0.5 * float(bowl.extent or 0.0) - settings.bowl_wall_m
    if off > inner + settings.margin_m:
        return OutcomeCheck(False, f"{name} is {_cm(off)} from the middle of {ref}", pick, bowl)
    # Resting on the floor: its top at most its own height above the bowl's base (plus slack).
    if pick.height is not None and own_height and pick.height > own_height + settings.bowl_wall_m + settings.rest_m:
        return OutcomeCheck(False, f"{name} is sitting on the rim of {ref}", pick, bowl)
    return OutcomeCheck(True, f"{name} is in {ref}, {_cm(off)} from its middle", pick, bowl)


def _check_on(pick: PerceivedObject, ref_obj: PerceivedObject, own_height: float, ref_height: float, name: str,
              ref: str, settings: OutcomeSettings) -> OutcomeCheck:
    off = _dist(pick.position, ref_obj.position)
    if off > 0.5 * float(ref_obj.extent or 0.0) + settings.margin_m:
        return OutcomeCheck(False, f"{name} is {_cm(off)} off the middle of {ref}", pick, ref_obj)
    if pick.height is not None and own_height and ref_height and \
            abs(pick.height - (ref_height + own_height)) > settings.rest_m:
        return OutcomeCheck(False, f"{name} is not resting on top of {ref}", pick, ref_obj)
    return OutcomeCheck(True, f"{name} is on {ref}", pick, ref_obj)


def _looks_like(seen: PerceivedObject, other: PerceivedObject, extent_ratio: float = 0.5) -> bool:
    """Same shape and, when both were measured, extents within ``extent_ratio`` of ``other``'s."""
    if seen.shape != other.shape:
        return False
    if not seen.extent or not other.extent:
        return True
    return abs(float(seen.extent) - float(other.extent)) <= extent_ratio * float(other.extent)


def _dist(position: Any, xy: Any) -> float:
    return float(np.linalg.norm(np.asarray(position[:2], dtype=np.float64) - np.asarray(xy[:2], dtype=np.float64)))


def _cm(metres: float) -> str:
    return f"{100.0 * metres:.0f} cm"
