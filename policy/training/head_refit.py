"""Refit the action head of a trained policy on frozen backbone features.

Why: the embedded checkpoint's chunks hover during the carry of pick-and-place (teacher-forced,
their sideways length is 0.5 % of the expert's), yet a linear read-out of the very same
action-query hidden states predicts the carry direction of held-out episodes (R^2 0.70, median
cosine 0.96). The backbone knows where to go; the head collapsed to the median (zero sideways
motion) of all closed-gripper rows. End-to-end fine-tuning did not move it (750 CPU steps).

How: run the frozen backbone once over a phase-balanced sample of demo rows (each row with a
random prompt variant and, with ``stale_prob``, an earlier step's reasoning, as at run time
under Fast-ECoT reuse), keep the C action-query hidden states, and train a freshly initialised
head on them (L1 plus a squared term on x, y, see ``HeadRefitSettings.loss``). Caching turns
each head step into a small matmul, so the refit takes minutes on a laptop CPU instead of the
hours a full training run takes there.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F

from policy.model.checkpoint import LoadedPolicy
from policy.model.config import PolicyConfig
from policy.training.dataset import DemoTable, phase_balanced_rows
from policy.training.features import QueryFeatures, query_features
from policy.model.geometry import CameraCalibration, geometry_dim
from policy.model.modeling import make_action_head
from policy.training.training import action_loss


@dataclass(frozen=True)
class HeadRefitSettings:
    """What ``python main.py train --head-only`` sets."""

    # Rows sampled per motion phase (fewer when a phase has fewer rows).
    rows_per_phase: int = 1000
    # Cached rows drawn per optimiser step, and steps in all.
    batch_size: int = 256
    steps: int = 8000
    lr: float = 2e-3
    weight_decay: float = 0.0
    stale_prob: float = 0.3
    # Share of the stale rows that take the episode's first reasoning (policy/training/dataset.py).
    stale_from_start: float = 0.0
    seed: int = 0
    # policy.training.training.action_loss: with plain L1 a fresh head collapsed again to zero sideways
    # motion; L1 plus a squared term on x, y keeps the carry (held-out carry cosine 0.52 -> 0.95).
    loss: str = "l1+mse-xy"
    # Give the fresh head the reasoning's boxes as numbers too (policy/model/geometry.py; sets
    # PolicyConfig.head_geometry in the refitted checkpoint). A head that has them keeps them.
    geometry: bool = False
    # Calibration of the demos' camera: the fresh head also reads each box's offset from the
    # hand (policy/model/geometry.py; implies ``geometry``). A head that has it keeps it.
    camera: Optional[CameraCalibration] = None


def fit_head(features: QueryFeatures, config: PolicyConfig, settings: HeadRefitSettings
             ) -> tuple[torch.nn.Module, list[float]]:
    """A fresh action head for ``config`` (a GeometryActionHead when ``config.head_geometry``)
    trained on cached features; returns it and its loss curve."""
    torch.manual_seed(settings.seed)
    targets = features.targets
    head = make_action_head(config)
    optim = torch.optim.AdamW(head.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    gen = torch.Generator().manual_seed(settings.seed)
    curve = []
    for step in range(settings.steps):
        for group in optim.param_groups:  # cosine decay to 0
            group["lr"] = settings.lr * 0.5 * (1 + np.cos(np.pi * step / settings.steps))
        idx = torch.randint(len(targets), (min(settings.batch_size, len(targets)),), generator=gen)
        loss = action_loss(head(features.hidden[idx], features.geometry[idx]), targets[idx], settings.loss)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        curve.append(float(loss.detach()))
    return head.eval(), curve


def refit_action_head(policy: LoadedPolicy, table: DemoTable, settings: HeadRefitSettings = HeadRefitSettings(),
                      progress: Optional[Callable[[str], None]] = None) -> tuple[LoadedPolicy, dict]:
    """A copy of ``policy`` whose action head is refitted on ``table``'s rows; and a record of
    rows, seconds and the L1 before/after on the cached rows."""
    started = time.time()
    rows = phase_balanced_rows(table, settings.rows_per_phase, settings.seed)
    if len(rows) == 0:
        raise ValueError("no demo rows to refit the action head on")
    sub = table.subset(np.isin(np.arange(len(table)), rows))
    say = progress or (lambda _msg: None)

    def every_1024_rows(done: int, total: int) -> None:
        if done % 1024 < 32 or done == total:
            say(f"features {done}/{total}")

    old = policy.config
    cfg = old.replace(head_geometry=settings.geometry or settings.camera is not None or old.head_geometry,
                      geometry_camera=settings.camera or old.geometry_camera)
    feats = query_features(policy, sub, settings.stale_prob, settings.seed, progress=every_1024_rows, head_config=cfg,
                           stale_from_start=settings.stale_from_start)
    cached_s = time.time() - started
    with torch.no_grad():  # the old head reads the leading boxes part of the (possibly wider) layout
        old_geometry = feats.geometry[:, : geometry_dim(old)] if old.head_geometry else None
        before = float(F.l1_loss(policy.model.action_head(feats.hidden, old_geometry), feats.targets))
    head, curve = fit_head(feats, cfg, settings)
    with torch.no_grad():
        after = float(F.l1_loss(head(feats.hidden, feats.geometry), feats.targets))
    model = copy.deepcopy(policy.model)
    model.config = cfg
    model.action_head = head
    refitted = LoadedPolicy(model=model, tokenizer=policy.tokenizer, stats=policy.stats, config=cfg,
                            meta=dict(policy.meta))
    record = {"head_refit_rows": int(len(rows)), "feature_s": round(cached_s, 1),
              "fit_s": round(time.time() - started - cached_s, 1), "l1_before": before, "l1_after": after,
              "final_curve_l1": float(np.mean(curve[-50:]))}
    return refitted, record


def run_head_refit(init_from: str, data: str, out: str, settings: HeadRefitSettings = HeadRefitSettings(),
                   eval_fraction: float = 0.05, motion_eval_rows: int = 64, threads: int = 1,
                   progress: Optional[Callable[[str], None]] = None) -> dict:
    """``python main.py train --head-only``: load ``init_from``, refit its head on the training
    episodes of ``data``, compare the held-out motion agreement before and after, save to ``out``.
    Returns the record (also written to the checkpoint's config meta and train log)."""
    import json
    from pathlib import Path

    from policy.model.checkpoint import load_checkpoint, save_checkpoint
    from policy.training.dataset import load_demos, split_held_out
    from policy.training.motion_eval import motion_agreement

    torch.set_num_threads(threads)
    policy = load_checkpoint(init_from)
    train_table, held = split_held_out(load_demos(data), eval_fraction)
    refitted, record = refit_action_head(policy, train_table, settings, progress)
    before = motion_agreement(policy, held, motion_eval_rows, seed=settings.seed)
    after = motion_agreement(refitted, held, motion_eval_rows, seed=settings.seed)
    record.update({f"before_{k}": v for k, v in before.items()})
    record.update(after)
    record["settings"] = {k: getattr(settings, k) for k in settings.__dataclass_fields__ if k != "camera"}
    record["settings"]["camera_offsets"] = settings.camera is not None
    record["init_from"] = str(init_from)
    meta = {**refitted.meta, "head_refit": record}
    save_checkpoint(out, refitted.model, refitted.tokenizer, refitted.stats, meta=meta)
    with (Path(out) / "train_log.jsonl").open("a") as fh:
        fh.write(json.dumps(record) + "\n")
    return record
