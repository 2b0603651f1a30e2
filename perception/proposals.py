"""Object proposals from the simulator's segmentation mask (PRIVILEGED, SIM ONLY).

Which pixels belong together comes from the simulator (``obs["segmentation"]``), so the result
is labelled ``SceneObservation.source = "sim-segmentation"``; a real arm has no such mask and
needs a segmenter in its place. Everything else is READ FROM THE IMAGE AND DEPTH, never from
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
from perception.faults import Frame, apply_pixel_faults
from perception.shape_features import ShapeEstimator
from perception.types import PerceivedObject, SceneObservation

SOURCE = "sim-segmentation"


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
    """The arm's observation dict (``sim/arm.py``) -> :class:`Frame`; needs rgb/depth/segmentation."""
    missing = [k for k in ("rgb", "depth", "segmentation", "camera") if k not in obs]
    if missing:
        raise KeyError(f"perceive() needs obs keys {missing}: sim-segmentation proposals work only on "
                       "simulator observations rendered with images (a real arm needs a segmenter)")
    labels = labels if labels is not None else dict(obs.get("segmentation_labels") or {})
    return Frame(np.asarray(obs["rgb"]), np.asarray(obs["depth"], dtype=np.float32),
                 np.asarray(obs["segmentation"]), {int(k): str(v) for k, v in labels.items()})


def perceive(obs: dict[str, Any], viewpoint: str = "user", faults: Optional[Sequence[Any]] = None, *,
             labels: Optional[dict[int, str]] = None, config: ProposalConfig = ProposalConfig()) -> SceneObservation:
    """Propose every object in ``obs`` with attributes read from its pixels and depth.

    obs: the arm's observation dict ("rgb", "depth", "segmentation", "camera"; optionally
    "segmentation_labels"). viewpoint: whose left/right later words use ("user" | "robot").
    faults: perception faults (``perception.faults``) applied to a copy of the frame.
    labels: segmentation value -> scene object id (else ``obs["segmentation_labels"]``; else
    sim_id stays None); needed only for faults and metrics. Boxes are (x0, y0, x1, y1) pixels,
    x1/y1 exclusive.
    """
    frame = apply_pixel_faults(frame_from_observation(obs, labels), list(faults) if faults else None)
    camera = obs["camera"]
    found: list[tuple[float, PerceivedObject]] = []
    for value in np.unique(frame.segmentation):
        if value < 0:
            continue
        obj = _propose(frame, int(value), camera, config)
        if obj is not None:
            found.append((float(np.mean(obj.box[0::2])), obj))
    found.sort(key=lambda t: t[0])
    objects = [o.model_copy(update={"index": k}) for k, (_, o) in enumerate(found, start=1)]
    return SceneObservation(objects=objects, viewpoint=viewpoint, source=SOURCE)  # type: ignore[arg-type]


def _propose(frame: Frame, value: int, camera: Any, cfg: ProposalConfig) -> Optional[PerceivedObject]:
    mask = frame.segmentation == value
    vs, us = np.nonzero(mask)
    depth = frame.depth[vs, us]
    valid = np.isfinite(depth) & (depth > 0)
    if valid.sum() < cfg.min_pixels:
        return None
    points = camera.deproject(us[valid], vs[valid], depth[valid])  # (N, 3) metres, base frame
    above = points[:, 2] > cfg.min_height
    if above.sum() < cfg.min_pixels:
        return None
    geom = cfg.shapes.measure(points[above])
    shape_scores = cfg.shapes.shape_scores(geom)
    shape = max(shape_scores, key=shape_scores.__getitem__)
    color_scores = cfg.colors.scores(frame.rgb[vs, us])
    return PerceivedObject(
        index=0, color=max(color_scores, key=color_scores.__getitem__), shape=shape,
        size=cfg.shapes.size(geom, shape), position=geom.center,
        box=(int(us.min()), int(vs.min()), int(us.max()) + 1, int(vs.max()) + 1),
        color_scores=color_scores, shape_scores=shape_scores,
        sim_id=frame.labels.get(value),
        extent=geom.extent, height=geom.height,
    )
