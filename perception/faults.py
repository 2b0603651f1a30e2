"""Perception faults applied to what the camera delivers, never to the simulator's truth.

A fault changes a copy of the frame (pixels, depth, segmentation) before proposals are made,
so perception really sees the wrong colour / misses the object / sees a phantom, and every
downstream signal (colour probabilities, SigLIP crops) is consistent with that view.
Fault kinds live in :data:`PIXEL_FAULTS` (name -> function); the scenario's
``{type: misperceive_color, object: a, as: orange}`` entries are accepted as dicts or as any
object with ``type`` / ``object`` / ``as_`` attributes (e.g. ``agent.scenario.Fault``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from sim.scene import COLORS


@dataclass(frozen=True)
class Frame:
    """One camera frame as perception sees it.

    rgb uint8 (H, W, 3); depth float32 (H, W) metres; segmentation int32 (H, W), -1 = nothing;
    labels: segmentation value -> scene object id (privileged, sim only; may be empty).
    """

    rgb: np.ndarray
    depth: np.ndarray
    segmentation: np.ndarray
    labels: dict[int, str]

    def copy(self) -> "Frame":
        return Frame(self.rgb.copy(), self.depth.copy(), self.segmentation.copy(), dict(self.labels))


@dataclass(frozen=True)
class PixelFault:
    """type: a key of PIXEL_FAULTS; object: scene id; as_: colour seen; fraction: share hidden."""

    type: str
    object: str
    as_: Optional[str] = None
    fraction: float = 1.0


def as_pixel_fault(fault: Any) -> PixelFault:
    """Accept a :class:`PixelFault`, a scenario dict or a scenario ``Fault`` model."""
    if isinstance(fault, PixelFault):
        return fault
    if isinstance(fault, dict):
        return PixelFault(type=fault["type"], object=fault["object"], as_=fault.get("as", fault.get("as_")),
                          fraction=float(fault.get("fraction", 1.0)))
    return PixelFault(type=fault.type, object=fault.object, as_=getattr(fault, "as_", None),
                      fraction=float(getattr(fault, "fraction", 1.0)))


def _misperceive_color(frame: Frame, mask: np.ndarray, fault: PixelFault) -> None:
    """Repaint the object's pixels in ``as_`` keeping each pixel's shading (brightness ratio)."""
    if fault.as_ not in COLORS:
        raise ValueError(f"misperceive_color needs 'as' to be one of {list(COLORS)}, got {fault.as_!r}")
    px = frame.rgb[mask].astype(np.float64)
    brightness = px.sum(axis=1)
    lit = np.quantile(brightness, 0.7) if len(brightness) else 1.0
    shade = brightness / max(float(lit), 1.0)
    # 0.89: a lit face renders at ~0.89 x the paint colour (perception/color_naming.py)
    target = np.asarray(COLORS[fault.as_]) * 255.0 * 0.89
    frame.rgb[mask] = np.clip(shade[:, None] * target[None], 0, 255).astype(np.uint8)


def _occlude(frame: Frame, mask: np.ndarray, fault: PixelFault) -> None:
    """Hide the object (fraction 1) or its top ``fraction`` of image rows: no mask, no depth."""
    rows = np.nonzero(mask)[0]
    hidden = mask
    if fault.fraction < 1.0 and len(rows):
        cut = np.quantile(rows, fault.fraction)
        hidden = mask & (np.arange(mask.shape[0])[:, None] <= cut)
    frame.segmentation[hidden] = -1
    frame.depth[hidden] = np.nan  # no depth either, so a depth segmenter does not find it


def _distractor(frame: Frame, mask: np.ndarray, fault: PixelFault) -> None:
    """Paint an unlabelled copy of the object (optionally in colour ``as_``) beside it, on free
    pixels, shifted one object-width towards the image centre."""
    vs, us = np.nonzero(mask)
    if len(us) == 0:
        return
    width = int(us.max() - us.min() + 2)
    shift = width if us.mean() < frame.rgb.shape[1] / 2 else -width
    new_id = int(frame.segmentation.max()) + 1
    nu = us + shift
    ok = (nu >= 0) & (nu < frame.rgb.shape[1])
    ok[ok] &= frame.segmentation[vs[ok], nu[ok]] < 0
    src_v, src_u, dst_u = vs[ok], us[ok], nu[ok]
    frame.rgb[src_v, dst_u] = frame.rgb[src_v, src_u]
    frame.depth[src_v, dst_u] = frame.depth[src_v, src_u]
    frame.segmentation[src_v, dst_u] = new_id
    if fault.as_ is not None:
        _misperceive_color(frame, frame.segmentation == new_id, fault)


#: fault type -> function(frame copy, object mask, fault) that edits the frame in place.
PIXEL_FAULTS: dict[str, Callable[[Frame, np.ndarray, PixelFault], None]] = {
    "misperceive_color": _misperceive_color,
    "occlude": _occlude,
    "distractor": _distractor,
}


def apply_pixel_faults(frame: Frame, faults: Optional[list[Any]]) -> Frame:
    """A copy of ``frame`` with ``faults`` applied in order (``frame`` is left untouched)."""
    if not faults:
        return frame
    out = frame.copy()
    by_id = {oid: value for value, oid in out.labels.items()}
    for raw in faults:
        fault = as_pixel_fault(raw)
        if fault.type not in PIXEL_FAULTS:
            raise KeyError(f"unknown perception fault {fault.type!r}; known: {sorted(PIXEL_FAULTS)}")
        if fault.object not in by_id:
            raise KeyError(f"fault names object {fault.object!r}, but the frame's labels are {sorted(by_id)}"
                           " (pass segmentation labels to perceive())")
        PIXEL_FAULTS[fault.type](out, out.segmentation == by_id[fault.object], fault)
    return out
