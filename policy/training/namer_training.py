"""Training data and loop of the object namer (``policy/model/object_namer.py``).

Examples come from collected episodes: every listed object of the sim-truth VISIBLE OBJECTS of a
row, cropped from that row's image. Single-frame scene folders give first frames; demo folders
give the arm in view and objects in the hand (``frame_stride`` keeps every n-th row of an
episode). ``main.py train-namer`` holds a random share of episodes out and scores them at each eval.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from policy.model.pixels import image_to_tensor
from policy.training.dataset import DemoTable, decode_png
from policy.model.object_namer import (NamerConfig, ObjectNamer, crop_boxes, from_crop_frame, jitter_boxes, split_name,
                                 to_crop_frame)


@dataclass
class NamerExamples:
    """Images (N, 3, S, S) in [-1, 1] and one row per listed object: image index, box, labels."""

    images: torch.Tensor
    image_index: np.ndarray  # (M,) int
    boxes: np.ndarray  # (M, 4) float32, normalised x0, y0, x1, y1
    colour: np.ndarray  # (M,) int
    shape: np.ndarray  # (M,) int
    episode: np.ndarray  # (M,) int

    def __len__(self) -> int:
        return len(self.image_index)

    def subset(self, mask: np.ndarray) -> "NamerExamples":
        return NamerExamples(self.images, self.image_index[mask], self.boxes[mask], self.colour[mask],
                             self.shape[mask], self.episode[mask])


@dataclass(frozen=True)
class NamerSettings:
    steps: int = 1500
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-4
    eval_every: int = 250
    seed: int = 0
    # Crop jitter (object_namer.crop_boxes): centre shift, std in box sides; log-size std.
    jitter_shift: float = 0.15
    jitter_scale: float = 0.2
    # Weight of the refined box's smooth-L1 loss (crop-frame units) against the two cross-entropies.
    box_weight: float = 10.0


def vocabulary(table: DemoTable) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Sorted colours and shapes of every object name in the sim-truth reasoning of ``table``."""
    from policy.model.cot_format import parse_reasoning

    colours, shapes = set(), set()
    for text in dict.fromkeys(table.reasoning):
        for obj in parse_reasoning(text).visible:
            colour, shape = split_name(obj.name)
            colours.add(colour)
            shapes.add(shape)
    return tuple(sorted(colours)), tuple(sorted(shapes))


def namer_examples(table: DemoTable, config: NamerConfig, frame_stride: int = 1) -> NamerExamples:
    """Every listed object of every ``frame_stride``-th row of each episode (an episode's first
    row always); names outside ``config``'s vocabulary raise ValueError."""
    from policy.model.cot_format import parse_reasoning

    starts = np.r_[0, np.flatnonzero(np.diff(table.episode)) + 1]
    first = np.zeros(len(table), dtype=np.int64)
    first[starts] = starts
    first = np.maximum.accumulate(first)
    rows = np.flatnonzero((np.arange(len(table)) - first) % max(frame_stride, 1) == 0)
    images, index, boxes, colour, shape, episode = [], [], [], [], [], []
    for i in rows:
        objects = parse_reasoning(table.reasoning[i]).visible
        if not objects:
            continue
        for obj in objects:
            c, s = split_name(obj.name)
            if c not in config.colours or s not in config.shapes:
                raise ValueError(f"{obj.name!r} is outside the namer's vocabulary")
            index.append(len(images))
            boxes.append(obj.box)
            colour.append(config.colours.index(c))
            shape.append(config.shapes.index(s))
            episode.append(int(table.episode[i]))
        images.append(((image_to_tensor(decode_png(table.images[i]), config.image_size) + 1) * 127.5)
                      .round().to(torch.uint8))
    stacked = torch.stack(images) if images else torch.zeros(0, 3, config.image_size, config.image_size, dtype=torch.uint8)
    return NamerExamples(stacked, np.asarray(index, dtype=np.int64), np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
                         np.asarray(colour, dtype=np.int64), np.asarray(shape, dtype=np.int64),
                         np.asarray(episode, dtype=np.int64))


def _batch(examples: NamerExamples, idx: np.ndarray, config: NamerConfig, rng: np.random.Generator,
           settings: NamerSettings) -> tuple[torch.Tensor, ...]:
    """Crops around jittered boxes, their geometry, the true boxes in each crop's frame, the
    jittered boxes themselves (image-normalised) and the crops' frames."""
    pixels = examples.images[torch.from_numpy(examples.image_index[idx])].float() / 127.5 - 1.0
    truth = examples.boxes[idx]
    given = jitter_boxes(truth, rng, settings.jitter_shift, settings.jitter_scale)
    crops, geometry, frames = crop_boxes(pixels, given, config)
    return crops, geometry, to_crop_frame(torch.from_numpy(truth), frames), torch.from_numpy(given), frames


def _iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    lo, hi = torch.maximum(a[:, :2], b[:, :2]), torch.minimum(a[:, 2:], b[:, 2:])
    inter = (hi - lo).clamp(min=0).prod(-1)
    area = lambda x: (x[:, 2:] - x[:, :2]).clamp(min=0).prod(-1)  # noqa: E731
    return inter / (area(a) + area(b) - inter).clamp(min=1e-9)


@torch.no_grad()
def namer_accuracy(namer: ObjectNamer, examples: NamerExamples, settings: NamerSettings = NamerSettings(),
                   batch_size: int = 512) -> dict[str, float]:
    """On boxes jittered as in training (a fixed draw): the share of objects whose colour, shape
    and both the namer gets right, and the mean IoU with the true box of the jittered box given
    (``given_iou``) and of the namer's refined one (``box_iou``)."""
    if len(examples) == 0:
        return {}
    namer.eval()
    rng = np.random.default_rng(12345)
    right_c, right_s, given_iou, refined_iou = [], [], [], []
    for start in range(0, len(examples), batch_size):
        idx = np.arange(start, min(start + batch_size, len(examples)))
        crops, geometry, _, given, frames = _batch(examples, idx, namer.config, rng, settings)
        colour, shape, box = namer(crops, geometry)
        truth = torch.from_numpy(examples.boxes[idx])
        right_c.append(colour.argmax(-1).numpy() == examples.colour[idx])
        right_s.append(shape.argmax(-1).numpy() == examples.shape[idx])
        given_iou.append(_iou(given, truth))
        refined_iou.append(_iou(from_crop_frame(box, frames), truth))
    c, s = np.concatenate(right_c), np.concatenate(right_s)
    return {"colour_acc": float(c.mean()), "shape_acc": float(s.mean()), "name_acc": float((c & s).mean()),
            "given_iou": float(torch.cat(given_iou).mean()), "box_iou": float(torch.cat(refined_iou).mean()),
            "objects": int(len(c))}


def train_namer(config: NamerConfig, train: NamerExamples, held_out: NamerExamples, settings: NamerSettings,
                log: Callable[[dict], None] = print) -> tuple[ObjectNamer, dict[str, float]]:
    """Cross-entropy on colour and shape and smooth L1 on the box, crops around jittered boxes,
    one-cycle learning rate; returns the namer and its last held-out scores (:func:`namer_accuracy`)."""
    if len(train) == 0:
        raise ValueError("no listed objects to train the namer on")
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    namer = ObjectNamer(config)
    opt = torch.optim.AdamW(namer.parameters(), settings.lr, weight_decay=settings.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, settings.lr, total_steps=max(settings.steps, 1))
    started = time.perf_counter()
    metrics: dict[str, float] = {}
    for step in range(1, settings.steps + 1):
        namer.train()
        idx = rng.integers(0, len(train), settings.batch_size)
        crops, geometry, target, _, _ = _batch(train, idx, config, rng, settings)
        colour, shape, box = namer(crops, geometry)
        loss = (nn.functional.cross_entropy(colour, torch.from_numpy(train.colour[idx]))
                + nn.functional.cross_entropy(shape, torch.from_numpy(train.shape[idx]))
                + settings.box_weight * nn.functional.smooth_l1_loss(box, target, beta=0.05))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % settings.eval_every == 0 or step == settings.steps:
            metrics = {"step": step, "loss": round(loss.item(), 4), "seconds": round(time.perf_counter() - started, 1),
                       **namer_accuracy(namer, held_out, settings)}
            log(metrics)
    return namer.eval(), metrics
