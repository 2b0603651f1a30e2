"""Measure proposal attributes against simulator truth on sampled scenes (metrics only).

``python -m perception.proposal_accuracy --scenes 100`` renders ``scenes`` random scenes
(``sim.scene.sample_scene``) with the PyBullet arm's front camera, runs :func:`perceive`, and
compares each proposal with the scene object its segmentation label names.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable, Optional

import numpy as np
from pydantic import BaseModel

from perception.proposals import perceive


class AccuracyReport(BaseModel):
    """Attribute accuracy over matched objects; distances in metres."""

    scenes: int
    objects: int
    seen: int  # objects with a proposal (others were too small / hidden / merged)
    extra: int = 0  # proposals that are no scene object, or a second piece of one
    color: float
    shape: float
    size: float
    all_three: float
    position_error_mean: float
    position_error_p90: float
    # measured footprint radius less the true one (sim.scene.footprint_radius): mean, mean absolute
    footprint_error_mean: float = float("nan")
    footprint_error_abs: float = float("nan")
    confusions: dict[str, int]  # "true->seen" -> count, colour and shape mistakes


def measure(scenes: int = 100, seed: int = 0, image_size: int = 96, n_objects: tuple[int, int] = (3, 6),
            arm: Optional[object] = None, depth_segmentation: bool = False,
            scene_source: Optional[Callable[[np.random.Generator], Any]] = None) -> AccuracyReport:
    """Render ``scenes`` sampled scenes and score perceive() against the scene specs.

    ``scene_source``: draws one SceneSpec from the generator (default: ``sim.scene.sample_scene``
    with ``n_objects`` objects), e.g. KnowNo's three-blocks-and-three-bowls tables.
    ``depth_segmentation``: make masks from depth (no sim labels) instead of the sim's mask; a
    proposal counts as an object when more than half of it is that object's pixels."""
    from perception.depth_segmentation import DepthSegmenter

    from sim.pybullet_arm import PyBulletArm
    from sim.pybullet_camera import CameraConfig
    from sim.scene import footprint_radius, sample_scene

    own = arm is None
    arm = arm or PyBulletArm(CameraConfig(width=image_size, height=image_size))
    arm.connect()
    rng = np.random.default_rng(seed)
    hits = {"color": 0, "shape": 0, "size": 0, "all": 0}
    errors: list[float] = []
    footprint_errors: list[float] = []
    confusions: dict[str, int] = {}
    total = seen = extra = 0
    try:
        for _ in range(scenes):
            scene = (scene_source(rng) if scene_source is not None
                     else sample_scene(rng, int(rng.integers(n_objects[0], n_objects[1] + 1))))
            arm.load_scene(scene)
            obs = arm.get_observation()
            segmenter = DepthSegmenter() if depth_segmentation else None
            proposals = perceive(obs, scene.viewpoint, labels=arm.segmentation_labels, segmenter=segmenter).objects
            extra += len(proposals) - len({o.sim_id for o in proposals if o.sim_id is not None})
            perceived = {o.sim_id: o for o in proposals}
            poses = arm.object_poses()
            for spec in scene.objects:
                total += 1
                got = perceived.get(spec.id)
                if got is None:
                    continue
                seen += 1
                ok = {a: getattr(got, a) == getattr(spec, a) for a in ("color", "shape", "size")}
                for a, good in ok.items():
                    hits[a] += good
                    if not good and a != "size":
                        key = f"{getattr(spec, a)}->{getattr(got, a)}"
                        confusions[key] = confusions.get(key, 0) + 1
                hits["all"] += all(ok.values())
                errors.append(float(np.linalg.norm(np.asarray(got.position[:2]) - poses[spec.id].position[:2])))
                if got.footprint:
                    footprint_errors.append(float(got.footprint) - footprint_radius(spec.shape, spec.size))
    finally:
        if own:
            arm.disconnect()
    n = max(seen, 1)
    return AccuracyReport(scenes=scenes, objects=total, seen=seen, extra=extra, color=hits["color"] / n, shape=hits["shape"] / n,
                          size=hits["size"] / n, all_three=hits["all"] / n,
                          position_error_mean=float(np.mean(errors)) if errors else float("nan"),
                          position_error_p90=float(np.percentile(errors, 90)) if errors else float("nan"),
                          footprint_error_mean=float(np.mean(footprint_errors)) if footprint_errors else float("nan"),
                          footprint_error_abs=float(np.mean(np.abs(footprint_errors))) if footprint_errors else float("nan"),
                          confusions=dict(sorted(confusions.items(), key=lambda kv: -kv[1])))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--depth-segmentation", action="store_true", help="masks from depth, not the sim")
    args = parser.parse_args(argv)
    report = measure(args.scenes, args.seed, args.image_size, depth_segmentation=args.depth_segmentation)
    print(report.model_dump_json(indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
