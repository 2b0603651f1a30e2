"""Perception's attribute reading per object on crowded tables: the default sampler's 3-6 random
objects and KnowNo's three blocks and three bowls (``agent.suite_knowno.knowno_table``).

    python -m benchmarks.bench_perception_tables --scenes 200 --seed 7000

Prints one row per table kind and frame size: objects seen, colour / shape / size accuracy per object with a
Wilson 95% interval on shape, the measured footprint radius's error against the true one (mean and mean
absolute, mm), and the most common confusions. Renders with the PyBullet arm's
camera at the policy's frame size (96 px) and at the agent's detailed look (160 px,
``RunConfig.perception_size``), with the sim's segmentation mask (the runner's default).
"""

from __future__ import annotations

import argparse
import math
from typing import Optional

from perception.proposal_accuracy import AccuracyReport, measure


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson interval of a proportion k / n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def row(name: str, r: AccuracyReport) -> str:
    lo, hi = wilson(round(r.shape * r.seen), r.seen)
    top = ", ".join(f"{k} {v}" for k, v in list(r.confusions.items())[:4])
    return (f"{name:<18} {r.scenes:>6} {r.objects:>7} {r.seen:>5} {r.color:>7.4f} {r.shape:>7.4f} "
            f"[{lo:.4f}, {hi:.4f}] {r.size:>6.4f} {1000 * r.footprint_error_mean:>+6.1f} {1000 * r.footprint_error_abs:>5.1f}  {top}")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7000, help="generator seed (dev work used 0)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[96, 160],
                        help="square frame sizes (px): the policy's frame and the agent's detailed look")
    args = parser.parse_args(argv)
    from agent.suite_knowno import knowno_table

    print(f"{'tables':<18} {'scenes':>6} {'objects':>7} {'seen':>5} {'colour':>7} {'shape':>7} {'shape 95% CI':<18} "
          f"{'size':>6} {'fp mm':>6} {'|fp|':>5}  confusions (true->seen)")
    for size in args.sizes:
        print(row(f"random 3-6 @{size}", measure(args.scenes, args.seed, image_size=size)))
        print(row(f"knowno 3+3 @{size}", measure(args.scenes, args.seed, image_size=size,
                                                 scene_source=lambda rng: knowno_table(rng)[0].scene())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
