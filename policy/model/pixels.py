"""The model's image input: a camera frame resized and scaled the way SigLIP reads it."""

from __future__ import annotations

import numpy as np
import torch


def image_to_tensor(rgb: np.ndarray, size: int) -> torch.Tensor:
    """(H, W, 3) uint8 -> (3, size, size) float in [-1, 1] (SigLIP's normalisation)."""
    from PIL import Image

    if rgb.shape[0] != size or rgb.shape[1] != size:
        rgb = np.asarray(Image.fromarray(rgb).resize((size, size), Image.BILINEAR))
    return torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1).float() / 127.5 - 1.0
