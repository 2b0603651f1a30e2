"""Object crops: cut objects out of camera frames, and render labelled crops to train SigLIP on.

Runtime and training share :func:`crop_box`, so the embedder sees crops cut the same way in
both: the object's pixel box, grown by a margin, made square (objects keep their aspect
ratio), clamped to the image.

Training crops come from the simulator (:class:`sim.pybullet_arm.PyBulletArm`, its scene
builder and camera geometry), rendered under jittered conditions: object layouts, light
direction/colour/intensity, camera viewpoint and image resolution. ``split="train"`` and
``split="heldout"`` draw light azimuths and viewpoint offsets from disjoint ranges, and
callers use disjoint scene seeds, so held-out crops show new positions, lighting and views.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Iterator, Literal, Optional, Sequence

import numpy as np

from sim.scene import sample_scene
from vocab.words import SHAPES

Split = Literal["train", "heldout"]

#: Camera resolutions (square, pixels) crops are rendered at; the agent's camera is one of them.
RESOLUTIONS: tuple[int, ...] = (96, 128, 160, 224)
#: Light azimuth sectors (degrees): training uses even sectors, held-out the odd ones.
LIGHT_SECTOR_DEG = 30.0
#: Camera eye offsets (metres, radius in the y-z plane): training rings vs held-out ring.
TRAIN_EYE_RINGS = ((0.0, 0.03), (0.06, 0.08))
HELDOUT_EYE_RING = (0.03, 0.06)
#: Fewer visible pixels than this and a crop shows nothing useful (occluded / off-screen).
MIN_VISIBLE_PIXELS = 12


def box_of_mask(mask: np.ndarray) -> Optional[tuple[int, int, int, int]]:
    """Pixel box (x0, y0, x1, y1) of a boolean mask, x1/y1 exclusive; None when empty."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def crop_box(rgb: np.ndarray, box: Sequence[float], margin: float = 0.25) -> np.ndarray:
    """Square crop (uint8, (S, S, 3)) around ``box`` (x0, y0, x1, y1), grown by ``margin`` x side.

    Parts of the square outside the image are filled with the nearest edge pixels, so the
    object stays centred in the crop.
    """
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(x1 - x0, y1 - y0, 1.0) * (1.0 + 2.0 * margin)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    half = max(side / 2.0, 2.0)
    xs = np.clip(np.arange(math.floor(cx - half), math.ceil(cx + half)), 0, w - 1)
    ys = np.clip(np.arange(math.floor(cy - half), math.ceil(cy + half)), 0, h - 1)
    return np.ascontiguousarray(rgb[np.ix_(ys, xs)][:, :, :3])


@dataclass(frozen=True)
class RenderConditions:
    """How one frame is rendered: camera (pose, resolution) and light (TinyRenderer model)."""

    camera: Any  # sim.pybullet_camera.CameraConfig
    # Direction towards the light (base frame, unit-ish) and its RGB colour (0..1).
    light_direction: tuple[float, float, float] = (1.0, 1.0, 1.0)
    light_color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    # Phong coefficients of TinyRenderer (defaults ~ PyBullet's own).
    ambient: float = 0.6
    diffuse: float = 0.35
    specular: float = 0.05
    shadow: bool = False


def sample_conditions(rng: np.random.Generator, split: Split, resolutions: Sequence[int] = RESOLUTIONS) -> RenderConditions:
    """Random camera + light for ``split`` (train and held-out ranges are disjoint)."""
    from sim.pybullet_camera import CameraConfig

    base = CameraConfig()
    side = int(rng.choice(resolutions))
    ring = HELDOUT_EYE_RING if split == "heldout" else TRAIN_EYE_RINGS[int(rng.integers(len(TRAIN_EYE_RINGS)))]
    radius, angle = rng.uniform(*ring), rng.uniform(0.0, 2.0 * math.pi)
    eye = (base.eye[0], base.eye[1] + radius * math.cos(angle), base.eye[2] + radius * math.sin(angle))
    target = tuple(t + d for t, d in zip(base.target, rng.uniform(-0.02, 0.02, size=3)))
    camera = replace(base, width=side, height=side, eye=eye, target=target)  # type: ignore[arg-type]
    n_sectors = int(360 / LIGHT_SECTOR_DEG)
    sector = 2 * int(rng.integers(n_sectors // 2)) + (1 if split == "heldout" else 0)
    azimuth = math.radians((sector + rng.uniform()) * LIGHT_SECTOR_DEG)
    elevation = math.radians(rng.uniform(30.0, 80.0))
    direction = (math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth), math.sin(elevation))
    # Mild colour casts only: a strong cast turns orange into red and the label would lie.
    tint = tuple(float(v) for v in rng.uniform(0.9, 1.0, size=3))
    return RenderConditions(camera=camera, light_direction=direction, light_color=tint,  # type: ignore[arg-type]
                            ambient=float(rng.uniform(0.5, 0.7)), diffuse=float(rng.uniform(0.25, 0.45)),
                            specular=float(rng.uniform(0.0, 0.1)), shadow=bool(rng.uniform() < 0.5))


def render_frame(client: Any, cond: RenderConditions) -> tuple[np.ndarray, np.ndarray]:
    """Render rgb (H, W, 3) uint8 and the raw PyBullet body-id mask (H, W) under ``cond``.

    Same view/projection as ``sim.pybullet_camera.render``, plus the light parameters that
    function leaves at their defaults.
    """
    cam = cond.camera
    view = client.computeViewMatrix(cameraEyePosition=cam.eye, cameraTargetPosition=cam.target, cameraUpVector=[0, 0, 1])
    proj = client.computeProjectionMatrixFOV(fov=cam.fov_deg, aspect=cam.width / cam.height, nearVal=cam.near, farVal=cam.far)
    _, _, rgba, _, seg = client.getCameraImage(
        cam.width, cam.height, viewMatrix=view, projectionMatrix=proj, renderer=client.ER_TINY_RENDERER,
        lightDirection=list(cond.light_direction), lightColor=list(cond.light_color),
        lightAmbientCoeff=cond.ambient, lightDiffuseCoeff=cond.diffuse, lightSpecularCoeff=cond.specular,
        shadow=int(cond.shadow),
    )
    rgb = np.asarray(rgba, dtype=np.uint8).reshape(cam.height, cam.width, 4)[:, :, :3].copy()
    return rgb, np.asarray(seg, dtype=np.int64).reshape(cam.height, cam.width)


@dataclass(frozen=True)
class ObjectCrop:
    """One rendered object crop with its true attributes (the training label)."""

    image: np.ndarray  # uint8 (S, S, 3), S depends on the object's size in the frame
    color: str
    shape: str
    size: str
    resolution: int  # side (pixels) of the frame it was cut from
    split: str
    seed: int


def scene_crops(arm: Any, scene: Any, cond: RenderConditions, margin: float = 0.25) -> dict[str, np.ndarray]:
    """Load ``scene`` into a connected PyBulletArm, render under ``cond``; object id -> crop.

    Objects with fewer than MIN_VISIBLE_PIXELS visible pixels are left out.
    """
    arm.load_scene(scene)
    rgb, body_mask = render_frame(arm.client, cond)
    out = {}
    for obj in scene.objects:
        mask = body_mask == arm.bodies.body_of[obj.id]
        box = box_of_mask(mask)
        if box is not None and int(mask.sum()) >= MIN_VISIBLE_PIXELS:
            out[obj.id] = crop_box(rgb, box, margin=margin)
    return out


def render_crops(
    seeds: Sequence[int],
    split: Split,
    *,
    resolutions: Sequence[int] = RESOLUTIONS,
    objects_per_scene: tuple[int, int] = (3, 6),
    shapes: tuple[str, ...] = SHAPES,
    margin_range: tuple[float, float] = (0.15, 0.35),
) -> Iterator[ObjectCrop]:
    """Render one random scene per seed (its own layout and conditions); yield visible objects.

    Margins are jittered per scene (``margin_range``) so the embedder tolerates boxes from any
    proposer.
    """
    from sim.pybullet_arm import PyBulletArm

    arm = PyBulletArm(render=False)
    arm.connect()
    try:
        for seed in seeds:
            rng = np.random.default_rng(seed)
            scene = sample_scene(rng, int(rng.integers(objects_per_scene[0], objects_per_scene[1] + 1)), shapes=shapes)
            cond = sample_conditions(rng, split, resolutions)
            crops = scene_crops(arm, scene, cond, margin=float(rng.uniform(*margin_range)))
            for obj in scene.objects:
                if obj.id in crops:
                    yield ObjectCrop(image=crops[obj.id], color=obj.color, shape=obj.shape, size=obj.size,
                                     resolution=cond.camera.width, split=split, seed=int(seed))
    finally:
        arm.disconnect()
