"""The pinhole camera model: one definition for the simulator, perception and the policy.

An ``Arm`` observation carries it (``obs["camera"]``) for deprojecting depth; perception projects
measured 3-D boxes with it; a policy checkpoint stores the one its demonstrations were recorded
with (``PolicyConfig.geometry_camera``) and lifts its boxes back onto the table with it. This
module imports numpy only, so every layer may use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CameraModel:
    """Intrinsics (pixels at ``width`` x ``height``) and the camera's pose in the robot base frame.

    ``base_from_camera`` (4x4, row-major; given as an array or nested sequences, stored as nested
    tuples so the model is hashable and compares by value) maps points in the OpenCV camera frame
    (x right, y down, z forward along the optical axis, metres) to the robot base frame. Depth
    images hold metric z. ``plane_z`` (m) is the height :meth:`lift` puts box centres on.
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    base_from_camera: Any
    plane_z: float = 0.025

    def __post_init__(self) -> None:
        pose = np.asarray(self.base_from_camera, dtype=np.float64)
        if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
            raise ValueError(f"base_from_camera must be a finite 4x4 matrix, got shape {pose.shape}")
        if min(self.width, self.height) <= 0 or min(self.fx, self.fy) <= 0:
            raise ValueError("camera width, height, fx and fy must be positive")
        object.__setattr__(self, "base_from_camera", tuple(tuple(float(v) for v in row) for row in pose))

    @cached_property
    def pose(self) -> np.ndarray:
        """``base_from_camera`` as a (4, 4) float64 array."""
        return np.asarray(self.base_from_camera, dtype=np.float64)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CameraModel":
        known = set(cls.__dataclass_fields__)
        if not isinstance(data, dict) or set(data) - known or not {"width", "height", "fx", "fy", "cx", "cy",
                                                                       "base_from_camera"} <= set(data):
            raise ValueError(f"a camera calibration needs the fields {sorted(known)}, got {data!r:.200}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def deproject(self, u: np.ndarray, v: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Pixels (u right, v down) with metric depth -> (N, 3) points in the base frame."""
        z = np.asarray(depth, dtype=np.float64).reshape(-1)
        x = (np.asarray(u, dtype=np.float64).reshape(-1) - self.cx) * z / self.fx
        y = (np.asarray(v, dtype=np.float64).reshape(-1) - self.cy) * z / self.fy
        pts = np.stack([x, y, z, np.ones_like(z)], axis=1)
        return (pts @ self.pose.T)[:, :3]

    def project(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) base-frame points -> (N, 2) pixel coordinates (u, v)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        cam = (pts - self.pose[:3, 3]) @ self.pose[:3, :3]  # the inverse rotation is the transpose
        z = np.clip(cam[:, 2], 1e-6, None)
        return np.stack([self.fx * cam[:, 0] / z + self.cx, self.fy * cam[:, 1] / z + self.cy], axis=1)

    def lift(self, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) normalised (x0, y0, x1, y1) boxes -> (N, 3) base-frame points where each box
        centre's viewing ray meets the plane z = ``plane_z``."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        u = (boxes[:, 0] + boxes[:, 2]) / 2.0 * self.width
        v = (boxes[:, 1] + boxes[:, 3]) / 2.0 * self.height
        rays = np.stack([(u - self.cx) / self.fx, (v - self.cy) / self.fy, np.ones_like(u)], axis=1) @ self.pose[:3, :3].T
        eye = self.pose[:3, 3]
        # Rays that run (nearly) parallel to the plane or away from it are clamped to a short reach.
        dz = np.where(np.abs(rays[:, 2]) < 1e-6, -1e-6, rays[:, 2])
        t = np.clip((self.plane_z - eye[2]) / dz, 0.0, 10.0)
        return eye + t[:, None] * rays
