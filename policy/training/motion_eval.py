"""Open-loop check of the action chunks, phase by phase, on held-out demo rows.

The closed-loop failure this catches: a policy that reaches and grasps but then hovers, because
its carry chunks have the right height but no lateral motion. Teacher-forced on held-out rows
(true image, state and reasoning), the chunk's summed displacement is compared with the
expert's: the cosine of the two xyz displacements and the ratio of their horizontal lengths
(1.0 = as far as the expert, 0.0 = hovering). Used at every training eval; needs no simulator.
"""

from __future__ import annotations

import numpy as np
import torch

from policy.model.checkpoint import LoadedPolicy
from policy.training.dataset import DemoTable, motion_phases, phase_balanced_rows
from policy.training.features import query_features

#: Phases whose chunks move the hand (close, release and done barely do).
MOVING_PHASES = ("approach", "descend", "lift", "carry", "lower")


def displacement_agreement(pred: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, C, >=3) predicted and true chunks in metres -> per row (cosine of the summed xyz
    displacements, predicted / true horizontal length)."""
    p, t = np.asarray(pred)[:, :, :3].sum(1), np.asarray(true)[:, :, :3].sum(1)
    cos = (p * t).sum(1) / (np.linalg.norm(p, axis=1) * np.linalg.norm(t, axis=1) + 1e-9)
    ratio = np.linalg.norm(p[:, :2], axis=1) / np.maximum(np.linalg.norm(t[:, :2], axis=1), 1e-9)
    return cos, ratio


def motion_agreement(policy: LoadedPolicy, table: DemoTable, rows_per_phase: int = 32, device: str = "cpu",
                     seed: int = 0) -> dict:
    """Median cosine and horizontal-length ratio per moving phase on up to ``rows_per_phase``
    rows each: ``eval_move_cos_<phase>``, ``eval_move_ratio_<phase>`` (ratio only where the
    expert moves at least 1 cm sideways, so a vertical-only chunk is not divided by ~0)."""
    if rows_per_phase <= 0 or len(table) == 0:
        return {}
    picked = phase_balanced_rows(table, rows_per_phase, seed, phases=MOVING_PHASES)
    if len(picked) == 0:
        return {}
    sub = table.subset(np.isin(np.arange(len(table)), picked))
    feats = query_features(policy, sub, seed=seed, device=device)
    head = policy.model.action_head
    on = next(head.parameters()).device
    with torch.no_grad():
        pred = head(feats.hidden.to(on), feats.geometry.to(on)).float().cpu().numpy()
    cos, ratio = displacement_agreement(policy.stats.unnormalize_action(pred), sub.actions[:, : policy.config.chunk_size])
    sideways = np.linalg.norm(sub.actions[:, : policy.config.chunk_size, :2].sum(1), axis=1) >= 0.01
    sub_phases = motion_phases(sub.reasoning)
    record = {}
    for phase in MOVING_PHASES:
        m = sub_phases == phase
        if m.any():
            record[f"eval_move_cos_{phase}"] = float(np.median(cos[m]))
        if (m & sideways).any():
            record[f"eval_move_ratio_{phase}"] = float(np.median(ratio[m & sideways]))
    return record
