"""Placements the policy was never shown, composed from the one it was: "put it in a bowl".

The demonstrations put things ``in`` a bowl and ``on`` an object (``LEARNED_RELATIONS``). For
"to the left of the cylinder", "behind the cube" or "next to the ball" the executor asks the
policy to put the object *in* something, and steers its PLACE box to a bowl-sized box standing
on the table at the spot the relation names (``spot_place``): the action head reads where the
PLACE box is from the hand and carries, lowers to a bowl's floor (just above the table) and lets
go there. The spot is ``sim.success.target_xy`` of the *perceived* reference position, in the
scene's viewpoint (the same 10 cm beside it the task is defined by); for "next to", the side
nearest the object. Nothing here reads the simulator's poses.

Measured (docs/BENCHMARKS.md): 23 of the 29 such placements of the ``relations`` suite (40 seeds)
done, against 1 of 29 asking the policy in the person's words.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from perception.types import PerceivedObject
from sim.success import target_xy

#: Relations the policy's demonstrations show (``agent.commands.collect`` kinds place_in, place_on).
LEARNED_RELATIONS: tuple[str, ...] = ("in", "on")
#: The stand-in bowl at the spot: a medium bowl's footprint (m) and rim height (m).
SPOT_EXTENT_M = 0.12
SPOT_HEIGHT_M = 0.045


def composes(target: Any) -> bool:
    """Whether ``target`` (an ``agent.context.ActTarget``) is a placement the policy was not
    shown (and not a put-back)."""
    relation = getattr(target, "relation", None)
    return (getattr(target, "place", None) is not None and relation is not None
            and relation not in LEARNED_RELATIONS and getattr(target, "return_to", None) is None)


def spot_place(target: Any) -> PerceivedObject:
    """A stand-in bowl on the table where ``target.relation`` of ``target.place`` puts the object."""
    pick, place = target.pick, target.place
    x, y = target_xy(np.asarray(place.position, dtype=np.float64), target.relation,
                     getattr(target, "viewpoint", "user"), toward=np.asarray(pick.position, dtype=np.float64))
    return PerceivedObject(index=0, color=place.color, shape="bowl", size="medium",
                           position=(float(x), float(y), SPOT_HEIGHT_M / 2.0), box=(0, 0, 1, 1),
                           extent=SPOT_EXTENT_M, height=SPOT_HEIGHT_M)


def composed_instruction(target: Any) -> str:
    """What the policy is told: the learned 'in' wording, naming the objects by what was seen."""
    pick, place = target.pick, target.place
    return f"put the {pick.color} {pick.shape} in the {place.color} {place.shape}"


def spot_of(target: Any) -> Optional[PerceivedObject]:
    """``spot_place(target)`` when the placement is composed, else None."""
    return spot_place(target) if composes(target) else None
