"""The simulated front camera: PyBullet rendering plus the matching :class:`CameraModel`.

The camera stands on the person's side of the table (+x, beyond the table), raised and pitched
down toward the robot, so the image shows the table with the robot behind it: the robot's left
(+y) appears on the image's right, as the person sees it. Images follow the OpenCV convention
used by :class:`common.camera.CameraModel`: pixel (u, v) with u right and v down, integer pixel
indices at pixel centres, depth = metric z along the optical axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from common.camera import CameraModel


@dataclass(frozen=True)
class CameraConfig:
    """Where the camera is and what it sees (metres, degrees, pixels)."""

    # Image size in pixels.
    width: int = 96
    height: int = 96
    # Camera position and the point it looks at, robot base frame (metres).
    eye: tuple[float, float, float] = (1.15, 0.0, 0.65)
    target: tuple[float, float, float] = (0.40, 0.0, 0.02)
    # Vertical field of view (degrees).
    fov_deg: float = 52.0
    # Clipping planes (metres); depth outside them is meaningless.
    near: float = 0.05
    far: float = 3.0


@dataclass
class CameraFrame:
    """One rendered frame: rgb uint8 (H, W, 3), depth float32 (H, W) metres, raw body-id mask (H, W)."""

    rgb: np.ndarray
    depth: np.ndarray
    body_mask: np.ndarray


def camera_model(cfg: CameraConfig) -> CameraModel:
    """Pinhole model (OpenCV frame) matching :func:`render` for ``cfg``."""
    eye = np.asarray(cfg.eye, dtype=np.float64)
    forward = np.asarray(cfg.target, dtype=np.float64) - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    pose = np.eye(4)
    # Columns: camera x (right), y (down), z (forward) expressed in the base frame.
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, down, forward, eye
    fy = cfg.height / (2.0 * math.tan(math.radians(cfg.fov_deg) / 2.0))
    # Square pixels: OpenGL's projection scales x by the aspect ratio, so fx = fy.
    # TinyRenderer puts the optical axis at column W/2 (a ball's silhouette is centred there);
    # (W-1)/2 put every perceived position 4.5 mm off in y. Rows are still half a pixel the other
    # way: fixing cy moves perceived heights, which perception's size prototypes were fitted on,
    # so it waits for a refit of those prototypes and of the conformal calibration.
    return CameraModel(
        width=cfg.width, height=cfg.height, fx=fy, fy=fy,
        cx=cfg.width / 2.0, cy=(cfg.height - 1) / 2.0, base_from_camera=pose,
    )


def render(client: Any, cfg: CameraConfig, *, hardware: bool = False) -> CameraFrame:
    """Render ``cfg`` with ``client`` (TinyRenderer unless ``hardware``, i.e. GUI OpenGL)."""
    view = client.computeViewMatrix(cameraEyePosition=cfg.eye, cameraTargetPosition=cfg.target, cameraUpVector=[0, 0, 1])
    proj = client.computeProjectionMatrixFOV(fov=cfg.fov_deg, aspect=cfg.width / cfg.height, nearVal=cfg.near, farVal=cfg.far)
    renderer = client.ER_BULLET_HARDWARE_OPENGL if hardware else client.ER_TINY_RENDERER
    _, _, rgba, zbuf, seg = client.getCameraImage(
        cfg.width, cfg.height, viewMatrix=view, projectionMatrix=proj, renderer=renderer,
    )
    rgba = np.asarray(rgba, dtype=np.uint8).reshape(cfg.height, cfg.width, 4)
    zbuf = np.asarray(zbuf, dtype=np.float64).reshape(cfg.height, cfg.width)
    # OpenGL depth buffer (0..1, non-linear) -> metric z along the optical axis.
    depth = cfg.far * cfg.near / (cfg.far - (cfg.far - cfg.near) * zbuf)
    seg = np.asarray(seg, dtype=np.int64).reshape(cfg.height, cfg.width)
    return CameraFrame(rgb=rgba[:, :, :3].copy(), depth=depth.astype(np.float32), body_mask=seg)
