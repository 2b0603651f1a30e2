"""Name an object's colour from its pixels, robust to the renderer's shading.

Shading darkens the faces turned away from the light, so the mean colour of a mask is not the
paint colour. The lit top face is the brightest part of the mask: we take the median of the
brightest pixels, undo the renderer's gain on a lit face (measured: lit faces render at ~0.89 x
the paint colour in PyBullet's TinyRenderer), and compare with the palette in a space that
separates hue/saturation (chromaticity r,g,b / sum) from brightness (log of the sum), so that
gray / white / black and orange / brown, which differ mainly in brightness, stay apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.scene import COLORS


@dataclass(frozen=True)
class ColorNamer:
    """Nearest-palette colour naming with a softmax over distances.

    palette: name -> paint colour (0..1 RGB); defaults to the scene contract's 12 colours.
    """

    palette: dict[str, tuple[float, float, float]] = field(default_factory=lambda: dict(COLORS))
    # Rendered/paint brightness of a lit face (PyBullet TinyRenderer, measured on 120 scenes).
    render_gain: float = 0.89
    # Fraction of the mask's pixels, brightest first, taken as the lit face.
    lit_fraction: float = 0.3
    # Spread of chromaticity (unitless) and log-brightness between render and palette.
    sigma_chroma: float = 0.04
    sigma_log_brightness: float = 0.2

    def robust_color(self, pixels: np.ndarray) -> np.ndarray:
        """(N, 3) uint8 pixels -> (3,) estimated paint colour in 0..1 (lit-face median / gain)."""
        px = np.asarray(pixels, dtype=np.float64).reshape(-1, 3) / 255.0
        brightness = px.sum(axis=1)
        lit = px[brightness >= np.quantile(brightness, 1.0 - self.lit_fraction)]
        return np.clip(np.median(lit, axis=0) / self.render_gain, 0.0, 1.0)

    def scores(self, pixels: np.ndarray) -> dict[str, float]:
        """(N, 3) uint8 pixels of one object -> colour name -> probability (sums to 1)."""
        return self.scores_of_color(self.robust_color(pixels))

    def scores_of_color(self, rgb: np.ndarray) -> dict[str, float]:
        """(3,) paint colour in 0..1 -> colour name -> probability (softmax of -d^2/2)."""
        names = list(self.palette)
        ref = np.array([self.palette[n] for n in names], dtype=np.float64)
        chroma_o, logb_o = _chroma_logb(np.asarray(rgb, dtype=np.float64)[None])
        chroma_p, logb_p = _chroma_logb(ref)
        d2 = (((chroma_p - chroma_o) / self.sigma_chroma) ** 2).sum(axis=1) + ((logb_p - logb_o) / self.sigma_log_brightness) ** 2
        logits = -0.5 * d2
        p = np.exp(logits - logits.max())
        p /= p.sum()
        return {n: float(v) for n, v in zip(names, p)}


def _chroma_logb(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K, 3) colours -> chromaticity (K, 3) and log brightness (K,). The +0.03 keeps black's
    chromaticity defined (it reads as neutral) without dominating dark colours."""
    total = rgb.sum(axis=1) + 0.03
    return (rgb + 0.01) / total[:, None], np.log(total)
