"""Safety envelope: the limits every action is clipped to before it reaches the arm.

The envelope is applied to a *delta* action (see ``sim/arm.py``): the translation step and the
rotation step are bounded per control step, the commanded end-effector target is kept inside a
workspace box, and the gripper command is kept in 0..1. ``clip`` returns exactly the action that
the arm then applies, so callers (and logs) see what the robot really did.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.arm import ACTION_DIM


@dataclass(frozen=True)
class SafetyEnvelope:
    """Per-step and workspace limits (metres, radians, robot base frame)."""

    # Workspace box for the commanded end-effector (grasp point) position, metres.
    # z_min keeps the fingertips just above the table surface (z = 0).
    workspace_min: tuple[float, float, float] = (0.20, -0.40, 0.012)
    workspace_max: tuple[float, float, float] = (0.80, 0.40, 0.55)
    # Largest translation per control step (metres, per axis; 0.03 m at 10 Hz = 0.3 m/s).
    max_translation: float = 0.03
    # Largest rotation per control step (radians, per axis).
    max_rotation: float = 0.15
    # Gripper command range: 0 = open, 1 = closed.
    gripper_range: tuple[float, float] = (0.0, 1.0)
    # Range of the commanded gripper yaw about the vertical (radians); the wrist joint allows more,
    # but staying inside +-1.6 rad keeps IK away from joint-7 limits.
    yaw_range: tuple[float, float] = (-1.6, 1.6)

    def clip(self, action: np.ndarray, ee_target: np.ndarray, yaw: float = 0.0) -> np.ndarray:
        """Clip a 7-D delta action given the commanded ee position (3,) and yaw (rad).

        Returns a new float32 (7,) array: per-step limits first, then the translation is
        shortened so that ``ee_target + delta`` stays inside the workspace box and the yaw
        delta so that ``yaw + delta`` stays in ``yaw_range``. Non-finite entries become 0
        (hold) rather than propagating NaN into the controller.
        """
        a = np.asarray(action, dtype=np.float64).reshape(-1)
        if a.shape != (ACTION_DIM,):
            raise ValueError(f"action must have {ACTION_DIM} entries, got shape {np.shape(action)}")
        a = np.where(np.isfinite(a), a, 0.0)
        out = a.copy()
        out[:3] = np.clip(a[:3], -self.max_translation, self.max_translation)
        goal = np.clip(np.asarray(ee_target, dtype=np.float64) + out[:3], self.workspace_min, self.workspace_max)
        # Re-clip: a target already outside the box is walked back in at most one step at a time.
        out[:3] = np.clip(goal - np.asarray(ee_target, dtype=np.float64), -self.max_translation, self.max_translation)
        out[3:6] = np.clip(a[3:6], -self.max_rotation, self.max_rotation)
        out[5] = float(np.clip(yaw + out[5], *self.yaw_range)) - yaw
        out[6] = np.clip(a[6], *self.gripper_range)
        return out.astype(np.float32)

    def contains(self, position: np.ndarray) -> bool:
        """True when a position (3,) lies inside the workspace box."""
        p = np.asarray(position, dtype=np.float64)
        return bool(np.all(p >= np.asarray(self.workspace_min) - 1e-9) and np.all(p <= np.asarray(self.workspace_max) + 1e-9))
