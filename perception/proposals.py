"""Object proposals: masks, then colour, shape, size and position read from pixels and depth.

Which pixels belong together comes, by default, from the simulator (``obs["segmentation"]``):
PRIVILEGED, SIM ONLY, labelled ``SceneObservation.source = "sim-segmentation"``. Observations
without that mask (a real arm), or a call with ``segmenter=DepthSegmenter()``, segment from
depth and colour instead (:mod:`perception.depth_segmentation`, source "depth-segmentation").
Everything else is READ FROM THE IMAGE AND DEPTH, never from
the simulator's state: colour from the mask's pixels (:mod:`perception.color_naming`), shape,
size and position from the mask's depth deprojected with ``obs["camera"]``
(:mod:`perception.shape_features`). ``sim_id`` (the scene object id) is attached for metrics
only. Faults (:mod:`perception.faults`) are applied to a copy of the frame first.

Objects are numbered 1..N from left to right in the image, so "number 2" on a screen showing
the camera image is the second object from the left there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np

from perception.color_naming import ColorNamer
from perception.depth_segmentation import DepthSegmenter
from perception.faults import Frame, apply_pixel_faults
from perception.shape_features import ShapeEstimator
from perception.types import PerceivedObject, SceneObservation

SOURCE = "sim-segmentation"
DEPTH_SOURCE = "depth-segmentation"


@dataclass(frozen=True)
class ProposalConfig:
    """How masks become :class:`PerceivedObject` proposals."""

    # Masks with fewer pixels are ignored (too little to read colour and shape from).
    min_pixels: int = 4
    # Points lower than this (m) are the table seen through anti-aliasing; dropped.
    min_height: float = 0.002
    colors: ColorNamer = field(default_factory=ColorNamer)
    shapes: ShapeEstimator = field(default_factory=ShapeEstimator)


def frame_from_observation(obs: dict[str, Any], labels: Optional[dict[int, str]] = None) -> Frame:
    """The arm's observation dict (``sim/arm.py``) -> :class:`Frame`; needs rgb, depth, camera.
    Without "segmentation" the frame's mask is all -1 (nothing labelled)."""
    missing = [k for k in ("rgb", "depth", "camera") if k not in obs]
    if missing:
        raise KeyError(f"perceive() needs obs keys {missing}: render the camera (images=True) or pass a "
                       "real camera's rgb, metric depth and CameraModel")
    labels = labels if labels is not None else dict(obs.get("segmentation_labels") or {})
    depth = np.asarray(obs["depth"], dtype=np.float32)
    seg = np.asarray(obs["segmentation"]) if "segmentation" in obs else np.full(depth.shape, -1, np.int32)
    return Frame(np.asarray(obs["rgb"]), depth, seg, {int(k): str(v) for k, v in labels.items()})


def perceive(obs: dict[str, Any], viewpoint: str = "user", faults: Optional[Sequence[Any]] = None, *,
             labels: Optional[dict[int, str]] = None, config: ProposalConfig = ProposalConfig(),
             segmenter: Optional[DepthSegmenter] = None) -> SceneObservation:
    """Propose every object in ``obs`` with attributes read from its pixels and depth.

    obs: the arm's observation dict ("rgb", "depth", "camera"; "segmentation" and
    "segmentation_labels" in sim). viewpoint: whose left/right later words use ("user" | "robot").
    faults: perception faults (``perception.faults``) applied to a copy of the frame (they name
    objects by scene id, so they need the sim's mask and labels).
    labels: segmentation value -> scene object id (else ``obs["segmentation_labels"]``; else
    sim_id stays None); for faults and metrics only. segmenter: segment from depth even when
    the sim's mask is present (the sim's mask then only names objects for metrics).
    Boxes are (x0, y0, x1, y1) pixels, x1/y1 exclusive.
    """
    frame = apply_pixel_faults(frame_from_observation(obs, labels), list(faults) if faults else None)
    source = SOURCE
    if segmenter is not None or "segmentation" not in obs:
        own = (segmenter or DepthSegmenter()).segment(frame.rgb, frame.depth, obs["camera"])
        frame = Frame(frame.rgb, frame.depth, own, _majority_labels(own, frame.segmentation, frame.labels))
        source = DEPTH_SOURCE
    clouds = _point_clouds(frame, obs["camera"], config)
    found: list[tuple[float, PerceivedObject]] = []
    for value, (points, pixels) in clouds.items():
        others = [pts for v, (pts, _) in clouds.items() if v != value]
        obj = _propose(frame, value, points, pixels, _support_height(points, others), config)
        found.append((float(np.mean(obj.box[0::2])), obj))
    found.sort(key=lambda t: t[0])
    objects = [o.model_copy(update={"index": k}) for k, (_, o) in enumerate(found, start=1)]
    return SceneObservation(objects=objects, viewpoint=viewpoint, source=source)  # type: ignore[arg-type]


def _majority_labels(own: np.ndarray, sim_mask: np.ndarray, labels: dict[int, str]) -> dict[int, str]:
    """Own segment -> scene id of the sim object covering most of it (metrics only; {} off-sim)."""
    out: dict[int, str] = {}
    for value in np.unique(own[own >= 0]):
        under = sim_mask[own == value]
        under = under[under >= 0]
        if len(under):
            top, count = np.unique(under, return_counts=True)
            best = int(top[count.argmax()])
            if count.max() * 2 >= (own == value).sum() and best in labels:
                out[int(value)] = labels[best]
    return out


def _point_clouds(frame: Frame, camera: Any, cfg: ProposalConfig) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Segmentation value -> ((N, 3) base-frame points above the table, (M, 2) pixel v, u)."""
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for value in np.unique(frame.segmentation):
        if value < 0:
            continue
        vs, us = np.nonzero(frame.segmentation == value)
        depth = frame.depth[vs, us]
        valid = np.isfinite(depth) & (depth > 0)
        if valid.sum() < cfg.min_pixels:
            continue
        points = camera.deproject(us[valid], vs[valid], depth[valid])  # (N, 3) metres
        points = points[points[:, 2] > cfg.min_height]
        if len(points) >= cfg.min_pixels:
            out[int(value)] = (points, np.stack([vs, us], axis=1))
    return out


def _support_height(points: np.ndarray, others: list[np.ndarray]) -> float:
    """Height (m) of what the object rests on: 0 for the table, else the top of another object's
    points under its footprint and below its own lowest visible points (a stacked cube, a bowl
    floor). Without this a cube on a cube would look tall and bottomless, i.e. like a ball."""
    centre = (np.percentile(points[:, :2], 3, axis=0) + np.percentile(points[:, :2], 97, axis=0)) / 2.0
    # footprint half-width plus ~2 pixels (8 mm each at 96 px): the support shows only at the rim
    radius = 0.5 * float(np.ptp(points[:, :2], axis=0).max()) + 0.015
    own_low = float(np.percentile(points[:, 2], 10)) + 0.005
    own_mid = float(np.median(points[:, 2]))
    support = 0.0
    for other in others:
        if float(np.median(other[:, 2])) >= own_mid:  # a support sits lower (a bowl does not rest on its contents)
            continue
        near = other[np.linalg.norm(other[:, :2] - centre, axis=1) <= radius]
        below = near[near[:, 2] <= own_low, 2]
        if len(below) >= 3:
            support = max(support, float(np.percentile(below, 90)))
    return support


def _propose(frame: Frame, value: int, points: np.ndarray, pixels: np.ndarray, support: float,
             cfg: ProposalConfig) -> PerceivedObject:
    lifted = points - np.array([0.0, 0.0, support])  # heights above the support surface
    geom = cfg.shapes.measure(lifted[lifted[:, 2] > cfg.min_height] if (lifted[:, 2] > cfg.min_height).sum() >= 3 else lifted)
    shape_scores = cfg.shapes.shape_scores(geom)
    shape = max(shape_scores, key=shape_scores.__getitem__)
    vs, us = pixels[:, 0], pixels[:, 1]
    color_scores = cfg.colors.scores(frame.rgb[vs, us])
    cx, cy, cz = geom.center
    return PerceivedObject(
        index=0, color=max(color_scores, key=color_scores.__getitem__), shape=shape,
        size=cfg.shapes.size(geom, shape), position=(cx, cy, cz + support),
        box=(int(us.min()), int(vs.min()), int(us.max()) + 1, int(vs.max()) + 1),
        color_scores=color_scores, shape_scores=shape_scores,
        sim_id=frame.labels.get(value), extent=geom.extent, height=geom.height + support,
        footprint=geom.footprint or None,
    )
