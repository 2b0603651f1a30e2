"""A second look at each listed object: a small CNN names it from a zoomed crop of the camera image.

The VLA writes VISIBLE OBJECTS as "name <loc><loc><loc><loc>". Its boxes are good, its names are
not: on 200 held-out first frames the embedded checkpoint gave 176 of 800 objects the wrong name,
143 of them the wrong shape at the right colour (a cube and a cylinder of 8-12 px fall inside one
or two of its 8-px patches). The TARGET then points at a cube that is a cylinder, or at one of two
"cyan cubes" (the namer's figures: docs/RESULTS.md, "TARGET accuracy").

The namer is the second stage of a two-stage detector (proposals from the first, names and a
refined box from a crop, as Fast R-CNN's head): each listed box is resampled from the policy's
96-px input, widened by ``NamerConfig.context``, to a ``crop`` x ``crop`` patch, so the object
fills it, and a 3-block CNN reads colour and shape (two softmax heads) and regresses the object's
box in the crop, with the box's size and height in the image as extra inputs. It is trained on
boxes moved and resized the way the policy's are (``jitter_boxes``). The runtime
(the ``namer`` rule, ``policy/inference/rules.py``) rewrites the listed objects' names and boxes with it before
the decoder writes TARGET, so the pointed box is chosen among correctly named objects.

Its weights travel in the checkpoint folder (``namer.safetensors`` + ``namer.json``);
``python main.py train-namer`` trains them from collected scenes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from policy.model.normalize import CheckpointError

NAMER_WEIGHTS = "namer.safetensors"
NAMER_CONFIG = "namer.json"
NAMER_FORMAT = 1

Box = Sequence[float]


@dataclass(frozen=True)
class NamerConfig:
    """The namer's vocabulary and crop geometry (saved next to its weights)."""

    colours: tuple[str, ...]
    shapes: tuple[str, ...]
    image_size: int = 96  # the policy input it crops from (policy.model.pixels.image_to_tensor)
    crop: int = 24  # side of the resampled crop, pixels
    context: float = 1.6  # crop side / the box's longer side
    width: int = 32  # channels of the first conv block (x2, x4 after)

    def names(self) -> list[str]:
        return [f"{c} {s}" for c in self.colours for s in self.shapes]


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


@dataclass(frozen=True)
class Look:
    """What the namer sees in one listed box: the object's name, how sure it is (colour's
    probability x shape's) and the object's box, refined from the crop."""

    name: str
    probability: float
    box: tuple[float, float, float, float]


class ObjectNamer(nn.Module):
    """Crop (B, 3, crop, crop) + box geometry (B, 4) -> colour logits, shape logits and the
    object's box (B, 4) in the crop's frame (0..1 across the crop, x0, y0, x1, y1)."""

    GEOMETRY = 4  # crop side, box width, box height (fractions of the image), box centre height

    def __init__(self, config: NamerConfig) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.features = nn.Sequential(_block(3, w), nn.MaxPool2d(2), _block(w, 2 * w), nn.MaxPool2d(2),
                                      _block(2 * w, 4 * w), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.geometry = nn.Linear(self.GEOMETRY, w)
        self.head = nn.Sequential(nn.Linear(5 * w, 4 * w), nn.ReLU(),
                                  nn.Linear(4 * w, len(config.colours) + len(config.shapes) + 4))

    def forward(self, crops: torch.Tensor, geometry: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = torch.cat([self.features(crops), torch.relu(self.geometry(geometry))], dim=1)
        out = self.head(h)
        k, m = len(self.config.colours), len(self.config.colours) + len(self.config.shapes)
        return out[:, :k], out[:, k:m], out[:, m:]

    @torch.no_grad()
    def look(self, pixels: torch.Tensor, boxes: Sequence[Box]) -> list[Look]:
        """A :class:`Look` at each normalised (x0, y0, x1, y1) box of ``pixels`` (3, S, S), the
        policy's input image."""
        if len(boxes) == 0:
            return []
        crops, geometry, frames = crop_boxes(pixels, boxes, self.config)
        device = next(self.parameters()).device
        colour, shape, box = self.eval()(crops.to(device), geometry.to(device))
        pc, ic = torch.softmax(colour.float(), -1).max(-1)
        ps, is_ = torch.softmax(shape.float(), -1).max(-1)
        refined = from_crop_frame(box.float().cpu(), frames)
        return [Look(f"{self.config.colours[int(c)]} {self.config.shapes[int(s)]}", float(a * b),
                     tuple(float(v) for v in np.clip(r.numpy(), 0.0, 1.0)))
                for c, s, a, b, r in zip(ic, is_, pc, ps, refined)]


def jitter_boxes(boxes: np.ndarray, rng: np.random.Generator, shift: float = 0.1, scale: float = 0.15) -> np.ndarray:
    """(B, 4) boxes moved and resized the way a box the policy wrote is off from the object's:
    the centre by ``shift`` of the box's size (std), width and height by exp(N(0, ``scale``))."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    n = len(boxes)
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    cx = (boxes[:, 0] + boxes[:, 2]) / 2 + rng.normal(0, shift, n) * w
    cy = (boxes[:, 1] + boxes[:, 3]) / 2 + rng.normal(0, shift, n) * h
    w, h = w * np.exp(rng.normal(0, scale, n)), h * np.exp(rng.normal(0, scale, n))
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1).astype(np.float32)


def crop_boxes(pixels: torch.Tensor, boxes: Sequence[Box], config: NamerConfig
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Resample a square crop around each box from ``pixels`` (3, S, S), one image for all boxes,
    or (B, 3, S, S), one per box -> ((B, 3, crop, crop) crops, (B, 4) geometry, (B, 3) frames:
    each crop's left, top and side in the image, normalised)."""
    boxes_t = torch.as_tensor(np.asarray(boxes, dtype=np.float32)).reshape(-1, 4)
    x0, y0, x1, y1 = boxes_t.unbind(-1)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    side = torch.maximum(torch.maximum(x1 - x0, y1 - y0), torch.tensor(4.0 / config.image_size)) * config.context
    zeros = torch.zeros_like(side)
    # affine_grid maps the output square onto [-1, 1] image coordinates: scale by the side, shift to the centre
    theta = torch.stack([torch.stack([side, zeros, 2 * cx - 1], -1), torch.stack([zeros, side, 2 * cy - 1], -1)], 1)
    images = pixels.float() if pixels.dim() == 4 else pixels.float()[None].expand(len(boxes_t), -1, -1, -1)
    grid = nn.functional.affine_grid(theta, [len(boxes_t), 3, config.crop, config.crop], align_corners=False)
    crops = nn.functional.grid_sample(images, grid.to(images.device), mode="bilinear", padding_mode="border",
                                      align_corners=False)
    geometry = torch.stack([side, x1 - x0, y1 - y0, cy], -1)
    frames = torch.stack([cx - side / 2, cy - side / 2, side], -1)
    return crops, geometry, frames


def to_crop_frame(boxes: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
    """Image-normalised (B, 4) boxes -> coordinates across each crop (``crop_boxes``' frames)."""
    left, top, side = frames.unbind(-1)
    origin = torch.stack([left, top, left, top], -1)
    return (boxes - origin) / side[:, None]


def from_crop_frame(boxes: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`to_crop_frame`."""
    left, top, side = frames.unbind(-1)
    return boxes * side[:, None] + torch.stack([left, top, left, top], -1)


def relabel(text: str, namer: ObjectNamer, pixels: torch.Tensor, min_prob: float,
            refine_min_iou: Optional[float]) -> Optional[tuple[str, float]]:
    """The partial reasoning ``text`` with each object of its VISIBLE OBJECTS renamed by
    ``namer`` (when it is at least ``min_prob`` sure) and its box replaced by the refined one
    (when that overlaps the listed box by at least ``refine_min_iou``; None keeps every box: a box
    that strays found another object in the crop), and the lowest probability of a changed name
    (1 when only boxes changed); None when nothing changes or the listing does not parse."""
    from policy.model.cot_format import box_iou, listed_objects, parse_reasoning, rename_listed

    listed = parse_reasoning(text).visible
    if not listed or len(listed) != len(listed_objects(text)):
        return None
    looks = namer.look(pixels, [o.box for o in listed])
    names = [look.name if look.probability >= min_prob else o.name for o, look in zip(listed, looks)]
    boxes = [look.box if refine_min_iou is not None and box_iou(look.box, o.box) >= refine_min_iou else o.box
             for o, look in zip(listed, looks)]
    edited = rename_listed(text, names, boxes)
    if edited == text:
        return None
    changed = [look.probability for o, look, name in zip(listed, looks, names) if name != o.name]
    return edited, min(changed, default=1.0)


def split_name(name: str) -> tuple[str, str]:
    """'light blue cube' -> ('light blue', 'cube'): the last word is the shape."""
    colour, _, shape = name.rpartition(" ")
    if not colour or not shape:
        raise ValueError(f"object name {name!r} is not '<colour> <shape>'")
    return colour, shape


def save_namer(folder: str | Path, namer: ObjectNamer, meta: Optional[dict] = None) -> None:
    """Write ``namer.safetensors`` and ``namer.json`` into a checkpoint folder."""
    from safetensors.torch import save_model

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_model(namer, str(folder / NAMER_WEIGHTS))
    payload = {"format_version": NAMER_FORMAT, "namer": asdict(namer.config), "meta": meta or {}}
    (folder / NAMER_CONFIG).write_text(json.dumps(payload, indent=1))


def load_namer(folder: str | Path, image_size: int, device: str = "cpu") -> Optional[ObjectNamer]:
    """The namer of a checkpoint folder; None when it has none (``namer.json`` absent).

    Raises :class:`CheckpointError` naming the fault when its config is malformed, its weights
    are missing, corrupt or of another geometry, or it crops from another image size than the
    policy's (``image_size``)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_model

    folder = Path(folder)
    path = folder / NAMER_CONFIG
    if not path.exists():
        return None
    try:
        payload = json.loads(path.read_text())
        raw = payload["namer"]
        config = NamerConfig(**{**raw, "colours": tuple(raw["colours"]), "shapes": tuple(raw["shapes"])})
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a valid object-namer config: {exc}") from exc
    if payload.get("format_version") != NAMER_FORMAT:
        raise CheckpointError(f"{path} has format {payload.get('format_version')}, this code reads {NAMER_FORMAT}")
    if config.image_size != image_size:
        raise CheckpointError(f"the object namer in {folder} crops {config.image_size}-px images, "
                              f"the policy sees {image_size}-px ones")
    weights = folder / NAMER_WEIGHTS
    if not weights.exists():
        raise CheckpointError(f"{weights} is missing ({path} says there is an object namer)")
    namer = ObjectNamer(config)
    try:
        missing, unexpected = load_model(namer, str(weights), strict=False, device=device)
    except (SafetensorError, OSError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{weights} is corrupt or does not fit {path}: {exc}") from exc
    if missing or unexpected:
        raise CheckpointError(f"{weights} does not match {path}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return namer.to(device).eval()
