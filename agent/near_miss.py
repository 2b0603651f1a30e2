"""Near misses: nothing matched the words, but something is what was said in all but ONE way.

A camera misreads colours under a cast ("yellow" seen as "orange") and shapes from a poor
angle (a white cube seen as a white cylinder). Such an object is worth a second look and,
failing that, ONE yes/no question ("I see a white cylinder, not a white cube. Is that the one
you mean?"), never a flat refusal. Truly absent things ("the purple elephant", a colour no
object comes near) have no near miss and are refused.

Colour nearness is measured between palette colours in perception's colour space
(chromaticity + log brightness, ``perception.color_naming``), in units of its noise spreads:
red-orange 7.5, yellow-orange 4.5, green-cyan 10.7, red-blue far beyond ``NEAR_COLOR_DISTANCE``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional, Sequence

import numpy as np

from perception.types import PerceivedObject

#: Palette distance (noise units, see module docstring) within which two colours count as a
#: plausible misreading of each other (covers every colour's nearest neighbours).
NEAR_COLOR_DISTANCE = 12.5
#: Perception's belief (0..1) in the said shape above which an object of another shape label
#: still counts as that shape for a colour miss (small cubes often read as cylinders); below it,
#: colour AND shape would differ: two misreadings, not a near miss.
SHAPE_BELIEF = 0.3
#: Shapes a person asks to pick up; a bowl is never a near miss for one of these (and vice versa).
GRASPABLE = ("cube", "ball", "cylinder")


@lru_cache(maxsize=None)
def color_distance(a: str, b: str) -> float:
    """Distance between palette colours ``a`` and ``b`` (0 for the same; inf if unknown or too far
    to resolve). From perception's own colour model: painted ``a``, the probability it would be
    named ``b`` falls as exp(-d^2 / 2), so d = sqrt(2 ln(p(a) / p(b)))."""
    from perception.color_naming import ColorNamer
    from sim.scene import COLORS

    if a == b:
        return 0.0
    if a not in COLORS or b not in COLORS:
        return float("inf")
    probs = ColorNamer().scores_of_color(np.asarray(COLORS[a], dtype=np.float64))
    if probs.get(b, 0.0) <= 0.0 or probs.get(a, 0.0) <= 0.0:
        return float("inf")
    return float(np.sqrt(max(0.0, 2.0 * np.log(probs[a] / probs[b]))))


def near_misses(objects: Sequence[PerceivedObject], said_color: Optional[str], said_shape: Optional[str],
                excluded: Sequence[int] = (), shape_belief: float = SHAPE_BELIEF,
                preferred: Sequence[int] = ()) -> list[PerceivedObject]:
    """Objects that differ from the words in exactly one attribute, most plausible first.

    - colour miss: the shape fits (label, or perception's belief >= ``shape_belief``) and the
      seen colour lies within ``NEAR_COLOR_DISTANCE`` of the said one (any colour when it is
      the only object of that shape);
    - shape miss: the colour label is the said one and both shapes are graspable (or both
      bowls): a shape misread.
    Needs both a colour and a shape word (with only one there is nothing left to agree on).
    ``excluded``: indices ruled out (never offered). ``preferred``: indices a relaxed grounding
    ranked (it kept the rest of the words: size, position), tried first in that order.
    """
    if said_color is None or said_shape is None:
        return []
    scored: list[tuple[float, PerceivedObject]] = []
    candidates = [o for o in objects if o.index not in excluded and not (o.color == said_color and o.shape == said_shape)]
    same_shape = [o for o in candidates
                  if o.shape == said_shape or o.shape_scores.get(said_shape, 0.0) >= shape_belief]
    for o in candidates:
        if o.color != said_color and o in same_shape:
            d = color_distance(said_color, o.color)
            # A far colour is a near miss only on a lone object of the said shape (a strong cast
            # can turn anything orange, but then there is no other object it could be).
            if d <= NEAR_COLOR_DISTANCE or len(same_shape) == 1:
                belief = 1.0 if o.shape == said_shape else o.shape_scores.get(said_shape, 0.0)
                scored.append((belief * max(0.05, 1.0 - d / (2 * NEAR_COLOR_DISTANCE)), o))
        elif o.color == said_color and o.shape != said_shape and (o.shape in GRASPABLE) == (said_shape in GRASPABLE):
            scored.append((0.5 + 0.5 * o.shape_scores.get(said_shape, 0.0), o))
    rank = {i: k for k, i in enumerate(preferred)}
    scored.sort(key=lambda so: (rank.get(so[1].index, len(rank)), -so[0]))
    return [o for _, o in scored]
