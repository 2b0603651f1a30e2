"""Lift the open hand clear of what it has just put down.

The scripted expert ends a put-down with release, retreat (straight up by
``sim.expert.APPROACH_HEIGHT``) and done. Its recorded episodes stop at the first step the task
checks as done, and that is almost always within three steps of the fingers opening: the
object rests and nothing of the arm touches it. So the demonstrations show "release" and then
"done , hold" with zero motion, and never the retreat.

The network's put-downs are less exact. It lowers a little too far or off-centre, opens, and a
finger or the palm still touches the object; it then writes "done , hold" and keeps the hand
there. The object rests where it should but is not let go of, and later calls re-grasp it or
knock it off. On 90 held-out seeds this was most of the policy's failed stacks (the policy's
figures with the retreat: docs/RESULTS.md, "Pick and place").

:class:`ReleaseRetreat` watches proprio alone: at the first network call after a hand that held
something (command closed, fingers held apart by it) reports the command open, during a task
with a PLACE, it takes over and sends straight-up moves with the hand open until the hand is
``height_m`` above where it opened, as the expert's retreat would. The runtime then reasons
afresh from what the camera shows (the ``release_retreat`` rule).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from common.proprio import Proprio


class ReleaseRetreat:
    """Per-episode state: ``update(state, place_task)`` at every network call; while it returns
    True, :meth:`chunk` gives the actions to send instead of the network's."""

    def __init__(self, height_m: float, step_m: float = 0.01) -> None:
        if height_m <= 0 or step_m <= 0:
            raise ValueError("retreat height and step must be positive")
        self.height_m = height_m
        self.step_m = step_m
        self._held = False
        self._goal_z: Optional[float] = None

    def update(self, state: Any, place_task: bool) -> bool:
        """True while the hand should rise: from the call that first sees a held object let go
        (``place_task``: the reasoning names where it goes) until it is ``height_m`` higher."""
        hand = Proprio.from_array(state)
        z, closed = hand.z, hand.closed
        if self._held and not closed and place_task:
            self._goal_z = z + self.height_m
        self._held = hand.holding
        if self._goal_z is not None and (closed or z >= self._goal_z - 0.5 * self.step_m):
            self._goal_z = None  # reached, or the hand closed again: the network has it
        return self._goal_z is not None

    def chunk(self, size: int, action_dim: int, state: Any) -> np.ndarray:
        """(size, action_dim) straight-up moves of ``step_m`` (the last ones shorter, then still) that end
        at the goal height, orientation kept, the hand open."""
        assert self._goal_z is not None, "chunk() outside a retreat"
        left = max(self._goal_z - float(state[2]), 0.0)
        rise = np.clip(left - self.step_m * np.arange(size), 0.0, self.step_m)
        actions = np.zeros((size, action_dim), dtype=np.float32)
        actions[:, 2] = rise
        return actions
