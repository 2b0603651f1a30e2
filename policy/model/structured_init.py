"""Position-aware initialisation for a backbone trained from scratch on little data.

A from-scratch SigLIP + Gemma must learn two things before it can write a box: *where* each
image patch is and *which* ``<locNNNN>`` bins are neighbours. With ~10^3-10^4 scenes neither is
learnt reliably (the first ``tiny`` checkpoint wrote boxes with IoU 0.02). Two fixed priors fix
the geometry from step 0 and leave everything trainable:

* the SigLIP position embeddings start as 2-D sine/cosine features of the patch row and column
  (MAE / ViT-style), so every patch token carries its absolute image position;
* the ``<locNNNN>`` token embeddings (tied with the output layer in Gemma) start as 1-D
  sine/cosine features of the bin index, so the logit of bin b is a smooth function of b and a
  box coordinate behaves like a regression target rather than 1,024 unrelated classes.

Both only touch parameter values; the network and the checkpoint format stay PaliGemma's.
"""

from __future__ import annotations

import math

import torch

from policy.model.modeling import VLAModel


def sincos_1d(positions: torch.Tensor, dim: int, shortest: float, longest: float) -> torch.Tensor:
    """(N,) positions -> (N, dim) [sin | cos] features, wavelengths geometric in [shortest, longest]."""
    half = dim // 2
    wavelengths = shortest * (longest / shortest) ** (torch.arange(half, dtype=torch.float64) / max(half - 1, 1))
    angles = 2 * math.pi * positions.double()[:, None] / wavelengths[None, :]
    out = torch.zeros(len(positions), dim, dtype=torch.float64)
    out[:, :half] = torch.sin(angles)
    out[:, half : 2 * half] = torch.cos(angles)
    return out.float()


def sincos_2d(grid: int, dim: int) -> torch.Tensor:
    """(grid*grid, dim): half the channels encode the row, half the column (row-major patches)."""
    coords = torch.arange(grid, dtype=torch.float64)
    rows = sincos_1d(coords, dim // 2, shortest=2.0, longest=4.0 * grid)
    cols = sincos_1d(coords, dim - dim // 2, shortest=2.0, longest=4.0 * grid)
    r, c = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    return torch.cat([rows[r.reshape(-1)], cols[c.reshape(-1)]], dim=1)


@torch.no_grad()
def init_vision_positions(model: VLAModel) -> None:
    """Overwrite SigLIP's learned position embeddings with 2-D sine/cosine features."""
    cfg = model.config
    grid = cfg.image_size // cfg.patch_size
    # transformers 5.24 keeps the embeddings on the tower itself, 5.17 under ``vision_model``.
    tables = [p for n, p in model.backbone.model.vision_tower.named_parameters()
              if n.endswith("embeddings.position_embedding.weight")]
    if len(tables) != 1:
        raise ValueError("could not find the SigLIP position-embedding table")
    table = tables[0]
    if table.shape[0] != grid * grid:
        raise ValueError(f"position table has {table.shape[0]} rows, expected {grid * grid}")
    table.copy_(sincos_2d(grid, table.shape[1]).to(table.dtype))


@torch.no_grad()
def init_loc_embeddings(model: VLAModel, first_loc_id: int, bins: int = 1024) -> None:
    """Give the ``bins`` consecutive loc tokens from ``first_loc_id`` smooth 1-D features.

    Scaled to the embedding table's own spread so the other tokens are not dwarfed.
    """
    table = model.backbone.get_input_embeddings().weight
    if first_loc_id < 0 or first_loc_id + bins > table.shape[0]:
        raise ValueError(f"loc tokens {first_loc_id}..{first_loc_id + bins - 1} are outside the vocabulary")
    feats = sincos_1d(torch.arange(bins), table.shape[1], shortest=16.0, longest=4.0 * bins)
    scale = float(table.std()) / float(feats.std())
    table[first_loc_id : first_loc_id + bins] = (feats * scale).to(table.dtype)


def apply_structured_init(model: VLAModel, first_loc_id: int) -> None:
    """Both priors (see module docstring); for models built from scratch only."""
    init_vision_positions(model)
    init_loc_embeddings(model, first_loc_id)
