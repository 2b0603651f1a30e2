"""Placements the policy was never shown, composed from the one it was: "put it in a bowl".

The demonstrations put things ``in`` a bowl and ``on`` an object (``LEARNED_RELATIONS``). For
"to the left of the bowl", "behind the cube", "next to the ball", "between the bowl and the
cube" or "in the front right corner of the table" the executor asks the policy to put the
object *in* something, and steers its PLACE box to a bowl-sized box standing on the table at the
spot the relation names (``spot_place``): the action head reads where the PLACE box is from the
hand and carries, lowers to a bowl's floor (just above the table) and lets go there.

The spot comes from the one relation geometry (``sim/relations.py``) applied to the PERCEIVED
objects: each one's footprint radius as measured from depth (``PerceivedObject.footprint``; half
its extent, or the nominal footprint of its perceived shape and size, when depth gave none), in
the scene's viewpoint; of several candidate spots (the four sides for "next to", the grid of a
region) the first clear of every other perceived object (``sim.task_sampling.PLACE_CLEARANCE``), for "next to" the side nearest the
object. Nothing here reads the simulator's poses.

"in" a bowl something already lies in is the learned placement, steered to a free spot: the
PLACE box is the bowl's own, moved so its centre is the spot the one "in" geometry chooses
(``sim.relations.free_spot_in``) among the perceived objects inside its wall (``in_bowl_spot``).
The policy aims every "in" at the PLACE box's centre, and a second object let go over the
first comes to rest on it instead of the bowl floor.

Asked in the person's own words the policy carries the object and never puts it down (it was
never shown these placements); composed this way it completes most of them (the ``relations``
suite with the learned policy: docs/RESULTS.md, "Relations by footprint, bowls included").
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from perception.types import PerceivedObject
from sim.objects import BOWL_WALL
from sim.relations import Footprint, choose_spot, free_spot_in, lying_in, spots
from sim.scene import footprint_radius
from sim.task_sampling import PLACE_CLEARANCE
from vocab.words import SHAPES, SIZES

#: Relations the policy's demonstrations show (``agent.commands.collect`` kinds place_in, place_on).
LEARNED_RELATIONS: tuple[str, ...] = ("in", "on")
#: The stand-in bowl at the spot: a medium bowl's footprint (m) and rim height (m).
SPOT_EXTENT_M = 0.12
SPOT_HEIGHT_M = 0.045
#: Footprint radius (m) of a perceived object with no measured extent and no contract shape/size.
DEFAULT_RADIUS_M = 0.03
#: Colour word of the stand-in bowl of a table region (no reference to borrow a colour from).
REGION_SPOT_COLOR = "white"


def perceived_footprint(obj: PerceivedObject) -> Footprint:
    """The disc ``obj`` covers on the table, from what perception measured (module docstring)."""
    if obj.footprint:
        radius = float(obj.footprint)
    elif obj.extent:
        radius = float(obj.extent) / 2.0
    elif obj.shape in SHAPES and obj.size in SIZES:
        radius = footprint_radius(obj.shape, obj.size)
    else:
        radius = DEFAULT_RADIUS_M
    return Footprint((float(obj.position[0]), float(obj.position[1])), radius)


def references(target: Any) -> list[PerceivedObject]:
    """The perceived objects ``target``'s placement is relative to (none for a region)."""
    return [o for o in (getattr(target, "place", None), getattr(target, "place2", None)) if o is not None]


def spot_xy(target: Any, others: Sequence[PerceivedObject] = ()) -> np.ndarray:
    """(x, y) metres where ``target`` (an ``agent.context.ActTarget``) puts its object, from the
    perceived objects; ``others``: the rest of the table, for a clear spot."""
    pick = target.pick
    own = perceived_footprint(pick)
    refs = [perceived_footprint(o) for o in references(target)]
    cands = spots(target.relation, own.radius, refs, getattr(target, "region", None), getattr(target, "viewpoint", "user"))
    blockers = [perceived_footprint(o) for o in others if o.index != pick.index]

    def clear(xy: np.ndarray) -> bool:
        return all(float(np.linalg.norm(b.centre - xy)) - b.radius - own.radius >= PLACE_CLEARANCE for b in blockers)

    toward = own.centre if target.relation == "next_to" else None
    return choose_spot(cands, clear, toward)


def composes(target: Any) -> bool:
    """Whether ``target`` (an ``agent.context.ActTarget``) is a placement the policy was not
    shown (and not a put-back)."""
    relation = getattr(target, "relation", None)
    placed = getattr(target, "place", None) is not None or relation == "region"
    return (placed and relation is not None and relation not in LEARNED_RELATIONS
            and getattr(target, "return_to", None) is None)


def spot_place(target: Any) -> PerceivedObject:
    """A stand-in bowl on the table where ``target``'s relation puts the object."""
    x, y = spot_xy(target, getattr(target, "others", ()))
    return PerceivedObject(index=0, color=_spot_color(target), shape="bowl", size="medium",
                           position=(float(x), float(y), SPOT_HEIGHT_M / 2.0), box=(0, 0, 1, 1),
                           extent=SPOT_EXTENT_M, height=SPOT_HEIGHT_M)


def composed_instruction(target: Any) -> str:
    """What the policy is told: the learned 'in' wording, naming the objects by what was seen."""
    pick = target.pick
    place = getattr(target, "place", None)
    where = f"the {place.color} {place.shape}" if place is not None else f"the {REGION_SPOT_COLOR} bowl"
    return f"put the {pick.color} {pick.shape} in {where}"


def in_bowl_spot(target: Any) -> Optional[PerceivedObject]:
    """The bowl ``target`` puts its object in, moved to the free spot inside it (module docstring),
    when something perceived already lies inside its wall; else None (the bowl as it is)."""
    place = getattr(target, "place", None)
    if (getattr(target, "relation", None) != "in" or place is None or place.shape != "bowl"
            or getattr(target, "return_to", None) is not None):
        return None
    bowl = perceived_footprint(place)
    inner = bowl.radius - BOWL_WALL
    pick = target.pick
    inside = lying_in(bowl, inner, [o.position for o in getattr(target, "others", ())
                                    if o.index not in (pick.index, place.index)])
    if not inside:
        return None
    x, y = free_spot_in(bowl, inner, perceived_footprint(pick).radius, inside)
    return place.model_copy(update={"position": (float(x), float(y), float(place.position[2]))})


def spot_of(target: Any, *, in_bowl: bool = False) -> Optional[PerceivedObject]:
    """``spot_place(target)`` when the placement is composed; with ``in_bowl``, ``in_bowl_spot``
    for "in" a bowl; else None."""
    if composes(target):
        return spot_place(target)
    return in_bowl_spot(target) if in_bowl else None


def _spot_color(target: Any) -> str:
    place = getattr(target, "place", None)
    return place.color if place is not None else REGION_SPOT_COLOR
