"""Shape, size and position of one object from its deprojected 3-D points (base frame, metres).

Two rotation-invariant features separate the shapes (table at z = 0, objects resting on it):

* ``spread`` = (sqrt(l1) + sqrt(l2)) / height, l = eigenvalues of the points' xy covariance: how
  wide the visible footprint is for its height. A cube's square footprint and vertical faces
  spread more than a cylinder's disc; a ball's visible cap spreads least; a bowl is 2-4x wider
  than high.
* ``low`` = 10th percentile of z / height: a ball shows only its upper half (no point near the
  table), while cubes and cylinders show side faces down to the table and a bowl its floor.

Each shape is a diagonal Gaussian over (spread, low). The prototypes were measured on 546
objects of 120 sampled scenes rendered at 96 x 96 px (seed 1; per-shape mean and std):
cube (0.605 +- 0.021, 0.25 +- 0.04), cylinder (0.506 +- 0.014, 0.26 +- 0.04),
ball (0.418 +- 0.023, 0.52 +- 0.05), bowl (1.79 +- 0.25, 0.213 +- 0.005). The sigmas below are
widened so that a partly occluded object gives a soft, not a certain, answer.
Footprint: the radius of the circle the object covers on the table (``sim.scene.footprint_radius``:
a cube's half diagonal, a bowl's outer radius), the 98th percentile of the points' horizontal
distances from the centre. Half the extent (a 3rd-97th percentile box) reads 2-7 mm short of it by
shape, so gaps between objects read about 1 cm wide; this reads -2 .. +2 mm by shape (mean over
shapes -0.2 mm; 160 px, seed-77 block of ``benchmarks.bench_perception_tables``).
Size: the height (graspable objects) or the footprint diameter (bowls) against the contract's
sizes (``sim.scene.SIZE_METRES``; bowls are 3x wider, see ``sim/objects.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.scene import SIZE_METRES

#: shape -> (spread mean, spread sigma, low mean, low sigma); see the module docstring.
SHAPE_PROTOTYPES: dict[str, tuple[float, float, float, float]] = {
    "cube": (0.605, 0.03, 0.25, 0.07),
    "cylinder": (0.506, 0.03, 0.26, 0.07),
    "ball": (0.418, 0.035, 0.52, 0.08),
    "bowl": (1.79, 0.35, 0.213, 0.05),
}
#: Footprint radius: this percentile of the points' horizontal distances from the centre.
FOOTPRINT_PERCENTILE = 98.0
#: A bowl's outer diameter is this many times its size's SIZE_METRES (sim/objects.py).
BOWL_DIAMETER_FACTOR = 3.0


@dataclass(frozen=True)
class Geometry:
    """What the points say: centre (x, y, z) m, height m, horizontal extent m, shape features."""

    center: tuple[float, float, float]
    height: float
    extent: float
    spread: float
    low: float
    # the circle the object covers on the table (module docstring, "Footprint"); 0: not measured
    footprint: float = 0.0


@dataclass(frozen=True)
class ShapeEstimator:
    """Geometry -> shape probabilities and a size class."""

    prototypes: dict[str, tuple[float, float, float, float]] = field(default_factory=lambda: dict(SHAPE_PROTOTYPES))
    sizes: dict[str, float] = field(default_factory=lambda: dict(SIZE_METRES))
    # The 95th-percentile top reads this much (m) above the true top (pixel-centre sampling).
    height_bias: float = 0.003

    def measure(self, points: np.ndarray) -> Geometry:
        """(N, 3) base-frame points of one object (N >= 3) -> :class:`Geometry`."""
        pts = np.asarray(points, dtype=np.float64)
        z = pts[:, 2]
        # 95th percentile: the top without single stray pixels (measured 1-4 mm above true top).
        height = max(float(np.percentile(z, 95)), 1e-3)
        xy = pts[:, :2]
        lo, hi = np.percentile(xy, 3, axis=0), np.percentile(xy, 97, axis=0)
        cov = np.cov((xy - xy.mean(axis=0)).T) if len(xy) > 1 else np.zeros((2, 2))
        spread = float(np.sqrt(np.clip(np.linalg.eigvalsh(cov), 0.0, None)).sum()) / height
        # The centre of the xy box of the visible points: the visible side faces and the top
        # cover the footprint symmetrically enough (measured error ~5 mm at 96 px).
        cx, cy = (lo + hi) / 2.0
        reach = np.linalg.norm(xy - np.array([cx, cy]), axis=1)
        footprint = float(np.percentile(reach, FOOTPRINT_PERCENTILE))
        return Geometry(center=(float(cx), float(cy), height / 2.0), height=height,
                        extent=float((hi - lo).max()), spread=spread, low=float(np.percentile(z, 10)) / height,
                        footprint=footprint)

    def shape_scores(self, geom: Geometry) -> dict[str, float]:
        """Shape name -> probability (softmax of Gaussian log-likelihoods over (spread, low))."""
        names = list(self.prototypes)
        loglik = []
        for name in names:
            ms, ss, ml, sl = self.prototypes[name]
            loglik.append(-0.5 * ((geom.spread - ms) / ss) ** 2 - 0.5 * ((geom.low - ml) / sl) ** 2 - np.log(ss * sl))
        ll = np.array(loglik)
        p = np.exp(ll - ll.max())
        p /= p.sum()
        return {n: float(v) for n, v in zip(names, p)}

    def size(self, geom: Geometry, shape: str) -> str:
        """Nearest size class: by height for graspable objects, by diameter for bowls."""
        measured = geom.extent / BOWL_DIAMETER_FACTOR if shape == "bowl" else geom.height - self.height_bias
        return min(self.sizes, key=lambda s: abs(self.sizes[s] - measured))
