"""The arm's proprio state: one named layout, and one definition of "the hand holds something".

Every ``Arm`` backend reports ``state`` as float32 (8,) (sim/arm.py): end-effector position
(m, robot base frame), end-effector roll/pitch/yaw (rad; PyBullet: relative to pointing straight
down), the finger opening (0 shut .. 1 fully open, 8 cm) and the last gripper command (0 open,
1 closed). Code reads it through :class:`Proprio` instead of indexing the vector.

This module imports numpy only, so every layer (sim, perception, policy, agent) may use it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

#: Length of the proprio vector.
STATE_DIM = 8
#: A gripper command above this is "closed" (commands are 0 or 1; regressed ones in between).
CLOSED_COMMAND = 0.5
#: Finger opening (0 shut .. 1 open) at or above which fingers commanded closed are held apart
#: by an object: the demonstrations' held objects keep them at >= 0.48, an empty hand shuts to
#: ~0 (the arm's own readings; every "holding" in the project is this one test).
HOLDING_OPENING = 0.2
#: Finger opening below which fingers commanded closed have shut on nothing (an object that was
#: held has slipped out); between the two the fingers are still closing.
SHUT_OPENING = 0.02


class Proprio(NamedTuple):
    """The proprio vector's fields, in its order."""

    x: float  # end-effector position (m, base frame)
    y: float
    z: float
    roll: float  # end-effector orientation (rad)
    pitch: float
    yaw: float
    opening: float  # finger opening, 0 shut .. 1 fully open (8 cm)
    command: float  # last gripper command, 0 open .. 1 closed

    @classmethod
    def from_array(cls, state: Any) -> "Proprio":
        """The fields of a (8,) proprio vector (any sequence of numbers)."""
        values = np.asarray(state, dtype=np.float64).reshape(-1)
        if values.shape[0] != STATE_DIM:
            raise ValueError(f"a proprio state has {STATE_DIM} values, got {values.shape[0]}")
        return cls(*(float(v) for v in values))

    def to_array(self) -> np.ndarray:
        """The float32 (8,) vector an ``Arm`` reports."""
        return np.asarray(self, dtype=np.float32)

    @property
    def xyz(self) -> np.ndarray:
        """End-effector position (3,), metres, base frame."""
        return np.asarray((self.x, self.y, self.z), dtype=np.float64)

    @property
    def closed(self) -> bool:
        """The gripper was last commanded closed."""
        return self.command > CLOSED_COMMAND

    @property
    def holding(self) -> bool:
        """Commanded closed and the fingers held apart by something: the hand holds an object."""
        return self.closed and self.opening >= HOLDING_OPENING

    @property
    def shut(self) -> bool:
        """Commanded closed and the fingers shut on nothing."""
        return self.closed and self.opening < SHUT_OPENING


def holds_something(state: Any) -> bool:
    """:attr:`Proprio.holding` of a proprio vector."""
    return Proprio.from_array(state).holding
