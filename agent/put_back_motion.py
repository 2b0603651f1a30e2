"""PutBackMotion: the undo of a wrong pick for an executor that has no simulator truth.

"No, the other one" while the wrong object is in the hand: it goes back where perception saw it
before the robot took it (``ActTarget.return_to``), lifted straight up first so nothing is
dragged sideways. The learned policy was never shown this motion (its demonstrations pick and
place), so :class:`agent.vla_executor.VLAExecutor` runs this small waypoint follower instead.
It reads only the arm's proprio state (grasp point, finger opening, last gripper command) and
the perceived point; nothing here looks at the simulator's poses.

- Hand commanded closed with the fingers held apart by something: it holds the object. Lift
  straight up to ``carry_z``, carry over ``return_to``, lower until the grasp point is at the
  object's old centre, open, rise ``retreat_m``. With ``grasped_at`` (where the grasp point was
  when the hand closed on it) the hand goes back to exactly that pose instead, so the object
  lands where it stood even when it was grasped off its centre (a ball, a cube by its edge).
- With ``fetch_from`` (the perceived centre of the object, set down somewhere since: in a bowl,
  on another object) and an empty hand: open, rise to ``carry_z``, go over it, lower straight
  down to its centre, close, and lift it back to ``carry_z``; then on as above. Without
  ``return_to`` the motion ends there, holding it (the first stage of a new placement).
- Otherwise (never closed, or closed on nothing): open and rise straight up ``retreat_m``. With
  ``clear_opening`` (just wider than what the hand held) the fingers first narrow to it: opened
  wide inside a bowl, a finger presses on the wall and, rising, lifts the bowl by friction.
- With ``home`` (a grasp-point position), it then goes there: the learned policy's
  demonstrations all start from the arm's home pose, and its next motion starts best from it.

Each step moves at most ``max_step`` metres (below the safety envelope's 3 cm) and a waypoint
counts as reached within ``tolerance``; opening the hand waits ``settle`` steps. An object that
was already set down somewhere else is fetched only when the caller found it again
(``fetch_from``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from common.proprio import CLOSED_COMMAND, Proprio, holds_something

from sim.arm import ACTION_DIM

OPEN, CLOSED = 0.0, 1.0
#: After a put-down the fingers narrow to the held object's opening plus this (0..1 of 8 cm)
#: before rising (``clear_opening``), off a bowl's wall they were pressed against.
CLEAR_MARGIN = 0.15


@dataclass(frozen=True)
class PutBackSettings:
    """Distances in metres."""

    carry_z: float = 0.16  # grasp-point height while carrying: clears bowl rims and stacked cubes
    retreat_m: float = 0.08  # rise after letting go (or instead of anything, when not holding)
    release_gap: float = 0.006  # set down this far above where the centre was (no table push)
    max_step: float = 0.02
    tolerance: float = 0.006
    settle: int = 4  # steps to open the fingers
    min_grasp_z: float = 0.018  # lowest grasp point of a fetch: fingertips stay off the surface


class PutBackMotion:
    """``next_actions(state) -> (chunk, 7)`` deltas; ``done`` once back and clear."""

    def __init__(self, return_to: Optional[tuple[float, float, float]], chunk_size: int = 4,
                 settings: PutBackSettings = PutBackSettings(), home: Optional[np.ndarray] = None,
                 grasped_at: Optional[np.ndarray] = None, fetch_from: Optional[np.ndarray] = None,
                 clear_opening: Optional[float] = None) -> None:
        if return_to is None and fetch_from is None:
            raise ValueError("a put-back needs where to put it (return_to) or what to fetch (fetch_from)")
        self.return_to = None if return_to is None else np.asarray(return_to, dtype=np.float64)
        self.fetch_from = None if fetch_from is None else np.asarray(fetch_from, dtype=np.float64)
        self.grasped_at = None if grasped_at is None else np.asarray(grasped_at, dtype=np.float64)
        self.home = None if home is None else np.asarray(home, dtype=np.float64)
        # The gripper command whose finger opening is ``clear_opening`` (opening = 1 - command),
        # kept below a "closed" command so the hand still reads as open (common.proprio).
        self.clear_grip = None if clear_opening is None else \
            float(np.clip(1.0 - clear_opening, OPEN, CLOSED_COMMAND - 0.05))
        self.chunk_size = chunk_size
        self.settings = settings
        self._plan: Optional[list[tuple[str, Optional[np.ndarray], float]]] = None
        self._index = 0
        self._waited = 0

    @property
    def done(self) -> bool:
        return self._plan is not None and self._index >= len(self._plan)

    def _make_plan(self, state: np.ndarray) -> list[tuple[str, Optional[np.ndarray], float]]:
        """(name, grasp-point goal or None to stay, gripper command) per phase."""
        ee = np.asarray(state[:3], dtype=np.float64)
        holding = holds_something(state)
        plan: list[tuple[str, Optional[np.ndarray], float]] = []
        if not holding and self.fetch_from is not None:
            plan, ee, holding = self._fetch(ee), self._lifted(self.fetch_from), True
            self.grasped_at = None  # the hand closes where it fetched, not where it once grasped
        if self.return_to is None:
            return plan
        plan += self._undo(ee, holding)
        if self.home is not None:
            plan.append(("home", self.home, OPEN))
        return plan

    def _lifted(self, point: np.ndarray) -> np.ndarray:
        return np.array([point[0], point[1], self.settings.carry_z])

    def _fetch(self, ee: np.ndarray) -> list[tuple[str, Optional[np.ndarray], float]]:
        """Open, up to carry height, over the object, straight down to its centre, close, lift."""
        s = self.settings
        assert self.fetch_from is not None
        carry = max(s.carry_z, float(ee[2]))
        x, y, z = self.fetch_from
        return [
            ("open", None, OPEN),
            ("rise", np.array([ee[0], ee[1], carry]), OPEN),
            ("over", np.array([x, y, carry]), OPEN),
            ("descend", np.array([x, y, max(float(z), s.min_grasp_z)]), OPEN),
            ("close", None, CLOSED),
            ("lift", self._lifted(self.fetch_from), CLOSED),
        ]

    def _undo(self, ee: np.ndarray, holding: bool) -> list[tuple[str, Optional[np.ndarray], float]]:
        s = self.settings
        assert self.return_to is not None
        if not holding:
            up = np.array([ee[0], ee[1], max(float(ee[2]), float(self.return_to[2])) + s.retreat_m])
            if self.clear_grip is None:
                return [("open", None, OPEN), ("rise", up, OPEN)]
            return [("open", None, OPEN), ("narrow", None, self.clear_grip), ("rise", up, self.clear_grip)]
        carry = max(s.carry_z, float(ee[2]))
        x, y, z = self.return_to if self.grasped_at is None else self.grasped_at
        return [
            ("lift", np.array([ee[0], ee[1], carry]), CLOSED),
            ("carry", np.array([x, y, carry]), CLOSED),
            ("lower", np.array([x, y, z + s.release_gap]), CLOSED),
            ("open", None, OPEN),
            ("rise", np.array([x, y, z + s.release_gap + s.retreat_m]), OPEN),
        ]

    def next_actions(self, state: np.ndarray) -> np.ndarray:
        """A (chunk_size, 7) float32 chunk from the proprio ``state`` (8,); the caller sends all of it."""
        if self._plan is None:
            self._plan = self._make_plan(state)
        ee = np.asarray(state[:3], dtype=np.float64).copy()
        chunk = np.zeros((self.chunk_size, ACTION_DIM), dtype=np.float32)
        grip = Proprio.from_array(state).command
        for i in range(self.chunk_size):
            if self.done:
                chunk[i, 6] = grip  # hold still, the hand as it is
                continue
            name, goal, grip = self._plan[self._index]
            chunk[i, 6] = grip
            if goal is None:  # open or close in place, wait for the fingers
                self._waited += 1
                if self._waited > self.settings.settle:
                    self._index, self._waited = self._index + 1, 0
                continue
            delta = goal - ee
            dist = float(np.linalg.norm(delta))
            if dist > self.settings.max_step:
                delta *= self.settings.max_step / dist
            chunk[i, :3] = delta
            ee = ee + delta
            if float(np.linalg.norm(goal - ee)) <= self.settings.tolerance:
                self._index += 1
        return chunk
