"""Whose left is "left": the speaker's frame for spatial words, from the scene viewpoint.

Positions are in the robot base frame (metres): x forward (away from the robot), y to the
robot's left. A :class:`ViewFrame` turns them into the speaker's (right, front) coordinates:

* ``user`` (default): the person stands across the table facing the robot. Their right is the
  robot's left (+y); "in front" means nearer to them, i.e. farther from the robot (+x).
* ``robot``: the robot's own frame. Its right is -y; "in front" is deictic like the user's,
  nearer to the viewer (the robot), i.e. -x. "nearest" (no anchor) means nearest the viewer.

This matches ``sim.relations.DIRECTIONS`` (where placements are put and checked), so grounding and the
success check agree on where "left of" is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np


@dataclass(frozen=True)
class ViewFrame:
    """Unit vectors (robot base frame, xy) of the speaker's right and front directions."""

    right: tuple[float, float]
    front: tuple[float, float]

    def right_of(self, xy: np.ndarray) -> np.ndarray:
        """(..., 2+) base-frame positions -> (...,) metres to the speaker's right."""
        xy = np.asarray(xy, dtype=np.float64)
        return xy[..., 0] * self.right[0] + xy[..., 1] * self.right[1]

    def front_of(self, xy: np.ndarray) -> np.ndarray:
        """(..., 2+) base-frame positions -> (...,) metres towards the speaker ("front")."""
        xy = np.asarray(xy, dtype=np.float64)
        return xy[..., 0] * self.front[0] + xy[..., 1] * self.front[1]


VIEW_FRAMES: dict[str, ViewFrame] = {
    "user": ViewFrame(right=(0.0, 1.0), front=(1.0, 0.0)),
    "robot": ViewFrame(right=(0.0, -1.0), front=(-1.0, 0.0)),
}


def view_frame(viewpoint: Literal["user", "robot"] | str) -> ViewFrame:
    if viewpoint not in VIEW_FRAMES:
        raise KeyError(f"unknown viewpoint {viewpoint!r}; known: {sorted(VIEW_FRAMES)}")
    return VIEW_FRAMES[viewpoint]

