"""Pinhole camera model shared by the simulator and perception (no pybullet import here)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CameraModel:
    """Intrinsics (pixels) and pose of the camera in the robot base frame.

    ``base_from_camera`` maps points in the OpenCV camera frame (x right, y down, z forward
    along the optical axis, metres) to the robot base frame. ``depth`` images hold metric z.
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    base_from_camera: np.ndarray  # (4, 4) homogeneous transform

    def deproject(self, u: np.ndarray, v: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Pixels (u right, v down) with metric depth -> (N, 3) points in the base frame."""
        z = np.asarray(depth, dtype=np.float64).reshape(-1)
        x = (np.asarray(u, dtype=np.float64).reshape(-1) - self.cx) * z / self.fx
        y = (np.asarray(v, dtype=np.float64).reshape(-1) - self.cy) * z / self.fy
        pts = np.stack([x, y, z, np.ones_like(z)], axis=1)
        return (pts @ self.base_from_camera.T)[:, :3]

    def project(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) base-frame points -> (N, 2) pixel coordinates (u, v)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        cam = np.linalg.inv(self.base_from_camera) @ np.concatenate([pts, np.ones((len(pts), 1))], 1).T
        z = np.clip(cam[2], 1e-6, None)
        return np.stack([self.fx * cam[0] / z + self.cx, self.fy * cam[1] / z + self.cy], axis=1)
