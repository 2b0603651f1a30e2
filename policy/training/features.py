"""Teacher-forced action-query features: what the action head reads, for demo rows.

Shared by the per-phase motion check (``policy/training/motion_eval.py``) and the action-head refit
(``policy/training/head_refit.py``).
"""

from __future__ import annotations

from functools import partial
from typing import Callable, NamedTuple, Optional

import torch

from policy.model.checkpoint import LoadedPolicy
from policy.model.config import PolicyConfig
from policy.training.dataset import DemoDataset, DemoTable, collate


class QueryFeatures(NamedTuple):
    """What the action head reads for N demo rows, and what it should output (CPU tensors)."""

    hidden: torch.Tensor  # (N, C, H) action-query hidden states
    geometry: torch.Tensor  # (N, geometry_dim) boxes of the reasoning each row conditioned on
    targets: torch.Tensor  # (N, C, 7) normalised expert chunks


@torch.no_grad()
def query_features(policy: LoadedPolicy, table: DemoTable, stale_prob: float = 0.0, seed: int = 0,
                   batch_size: int = 32, device: str = "cpu",
                   progress: Optional[Callable[[int, int], None]] = None,
                   head_config: Optional[PolicyConfig] = None, stale_from_start: float = 0.0) -> QueryFeatures:
    """Frozen backbone over every row of ``table`` (teacher-forced: the row's image, state,
    a random prompt variant and its reasoning, or with ``stale_prob`` an earlier step's).
    ``geometry`` follows ``head_config`` (default the policy's own: a refit may give the new
    head another geometry layout); the head itself is not run. The model's train/eval mode is
    restored afterwards."""
    config = head_config or policy.config
    ds = DemoDataset(table, policy.tokenizer, config, policy.stats, seed=seed, stale_prob=stale_prob,
                     stale_from_start=stale_from_start)
    loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=False,
                                         collate_fn=partial(collate, config=config))
    model = policy.model
    was_training = model.training
    model.eval()
    feats, geometry, targets = [], [], []
    for batch in loader:
        action_mask = batch.action_mask.to(device)
        embeds = model.embed(batch.input_ids.to(device), batch.pixel_values.to(device), batch.state.to(device),
                             action_mask)
        out = model.run_backbone(embeds, batch.token_type_ids.to(device), batch.attention_mask.to(device))
        hidden = out[action_mask].view(len(batch.state), policy.config.chunk_size, -1)
        feats.append(hidden.float().cpu())
        geometry.append(batch.geometry)
        targets.append(batch.actions)
        if progress is not None:
            progress(sum(len(f) for f in feats), len(ds))
    model.train(was_training)
    return QueryFeatures(torch.cat(feats), torch.cat(geometry), torch.cat(targets))
