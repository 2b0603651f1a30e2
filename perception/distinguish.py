"""What tells a few candidate objects apart, in words the person can answer with.

The agent asks "the red cube on the left or the one on the right?"; this module finds the
attributes behind such a question. Attributes are tried in the order people find easiest
(colour, shape, size, left/right, front/back, in the speaker's frame of ``viewpoint``).
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
from pydantic import BaseModel, Field

from perception.spatial import view_frame
from perception.types import PerceivedObject

Attribute = Literal["color", "shape", "size", "left_right", "front_back"]
#: Minimum separation (metres) between neighbours for a spatial word to tell them apart.
MIN_SPATIAL_GAP = 0.04


class Distinction(BaseModel):
    """One attribute and the value it takes for each object (aligned with the input list)."""

    attribute: Attribute
    values: list[str] = Field(description="per object: 'red' / 'cube' / 'small' / 'left' / 'front' ...")
    phrases: list[str] = Field(description="per object, how to say it: 'the red one', 'the one on the left'")
    complete: bool = Field(description="True if every object gets a different value")


def distinguishing_attributes(objects: Sequence[PerceivedObject], viewpoint: str = "user") -> list[Distinction]:
    """Attributes whose values differ among ``objects``: complete ones first, easiest first.

    Empty when fewer than two objects, or when nothing perceivable separates them.
    """
    if len(objects) < 2:
        return []
    found: list[Distinction] = []
    for attr in ("color", "shape", "size"):
        values = [str(getattr(o, attr)) for o in objects]
        if len(set(values)) > 1:
            noun = "one" if attr != "shape" else ""
            phrases = [f"the {v} {noun}".strip() for v in values]
            found.append(Distinction(attribute=attr, values=values, phrases=phrases,
                                     complete=len(set(values)) == len(values)))
    frame = view_frame(viewpoint)
    xy = np.array([o.position[:2] for o in objects], dtype=np.float64)
    for attr, coord, words in (("left_right", frame.right_of(xy), ("left", "right")),
                               ("front_back", -frame.front_of(xy), ("front", "back"))):
        values = _rank_words(coord, words)
        if values is not None:
            phrases = [_spatial_phrase(v) for v in values]
            found.append(Distinction(attribute=attr, values=values, phrases=phrases, complete=True))
    return sorted(found, key=lambda d: not d.complete)


def describe_choices(objects: Sequence[PerceivedObject], viewpoint: str = "user") -> list[str]:
    """One phrase per object that singles it out: 'the red cube on the left', 'the blue cube'.

    Uses the first complete distinction; when none exists, numbers the objects by their index.
    """
    found = [d for d in distinguishing_attributes(objects, viewpoint) if d.complete]
    if not found:
        return [f"number {o.index}, the {o.color} {o.shape}" for o in objects]
    best = found[0]
    if best.attribute in ("left_right", "front_back"):
        return [f"the {o.color} {o.shape} {_where(v)}" for o, v in zip(objects, best.values)]
    return [f"the {_with(o, best.attribute)}" for o in objects]


def _rank_words(coord: np.ndarray, words: tuple[str, str]) -> list[str] | None:
    """Order by ``coord`` (larger = words[1]) -> left / middle / right style labels, or None if
    two neighbours are too close to tell apart."""
    order = np.argsort(coord)
    if np.min(np.diff(coord[order])) < MIN_SPATIAL_GAP:
        return None
    n = len(coord)
    low, high = words
    if n == 2:
        labels = [low, high]
    elif n == 3:
        labels = [low, "middle", high]
    else:
        labels = [f"{low}most"] + [f"{_ORD[k]} from the {low}" for k in range(2, n)] + [f"{high}most"]
    out = [""] * n
    for rank, i in enumerate(order):
        out[i] = labels[rank]
    return out


_ORD = {2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth", 9: "ninth"}


def _where(value: str) -> str:
    if value in ("left", "right"):
        return f"on the {value}"
    if value == "front":
        return "in front"
    if value == "back":
        return "at the back"
    if value == "middle":
        return "in the middle"
    return value.replace("leftmost", "on the far left").replace("rightmost", "on the far right") \
        .replace("frontmost", "at the very front").replace("backmost", "at the very back")


def _spatial_phrase(value: str) -> str:
    return f"the one {_where(value)}"


def _with(obj: PerceivedObject, attribute: str) -> str:
    """'red cube' with the distinguishing attribute kept, e.g. size: 'small red cube'."""
    if attribute == "size":
        return f"{obj.size} {obj.color} {obj.shape}"
    return f"{obj.color} {obj.shape}"
