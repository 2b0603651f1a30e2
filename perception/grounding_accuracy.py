"""End-to-end grounding accuracy on rendered scenes: render -> perceive -> ground.

``python -m perception.grounding_accuracy --scenes 100`` samples scenes, and for every graspable
object says what a person would: "pick up the <colour> <shape>" with an everyday synonym, or,
when another object has the same colour and shape, the phrase
:func:`perception.distinguish.describe_choices` would use ("the red block on the left"). It reports how often the prediction set is exactly that object
(``unique``), and, for the bare "pick up the <shape>" when several share the shape, how often
the set holds all of them (``coverage``) so the agent asks instead of guessing. An object perception did not find (or
merged with another) counts as a failed request. ``--segmenter depth`` groups pixels by depth and
colour (``perception.depth_segmentation``, what a real arm's camera allows) instead of the
simulator's segmentation mask, which then only names objects for scoring.
"""

from __future__ import annotations

import argparse
from typing import Optional

import numpy as np
from pydantic import BaseModel

from perception.distinguish import describe_choices
from perception.grounding import Grounder
from perception.proposals import perceive

#: Everyday words people use, one picked per request (seeded).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "cube": ("cube", "block", "box"), "ball": ("ball", "sphere", "marble"), "cylinder": ("cylinder", "can", "tin"),
}
VERBS = ("pick up", "grab", "take", "lift")


class GroundingAccuracy(BaseModel):
    scenes: int
    requests: int
    unique: float  # prediction set == {meant object}
    top1: float  # best candidate == meant object
    mean_set_size: float
    ambiguous_requests: int
    coverage: float  # bare-shape requests whose set holds every object of that shape
    failures: list[str]  # first few failing requests, for reading


def measure(scenes: int = 100, seed: int = 0, image_size: int = 96, viewpoint: str = "user",
            depth_segmentation: bool = False) -> GroundingAccuracy:
    from perception.depth_segmentation import DepthSegmenter
    from sim.pybullet_arm import PyBulletArm
    from sim.pybullet_camera import CameraConfig
    from sim.scene import sample_scene

    arm = PyBulletArm(CameraConfig(width=image_size, height=image_size))
    arm.connect()
    rng = np.random.default_rng(seed)
    grounder = Grounder()
    unique = top1 = requests = ambiguous = covered = 0
    sizes: list[int] = []
    failures: list[str] = []
    try:
        for _ in range(scenes):
            scene = sample_scene(rng, int(rng.integers(3, 7)), viewpoint=viewpoint)  # type: ignore[arg-type]
            arm.load_scene(scene)
            segmenter = DepthSegmenter() if depth_segmentation else None
            seen = perceive(arm.get_observation(), viewpoint, labels=arm.segmentation_labels, segmenter=segmenter)
            by_id = {o.sim_id: o for o in seen.objects}
            for spec in scene.objects:
                if spec.shape not in SYNONYMS:
                    continue
                if spec.id not in by_id:  # not found, or merged into another object's mask
                    requests += 1
                    sizes.append(0)
                    if len(failures) < 8:
                        failures.append(f"the {spec.color} {spec.shape} ({spec.id}) was not perceived")
                    continue
                twins = [by_id[o.id] for o in scene.objects if o.id in by_id and (o.color, o.shape) == (spec.color, spec.shape)]
                noun = str(rng.choice(SYNONYMS[spec.shape]))
                phrase = f"the {spec.color} {noun}"
                if len(twins) > 1:  # "the small red cube" / "the red cube on the left"
                    phrase = describe_choices(twins, viewpoint)[twins.index(by_id[spec.id])].replace(spec.shape, noun)
                text = f"{rng.choice(VERBS)} {phrase}"
                result = grounder.ground(text, seen)
                requests += 1
                picks = [c.pick for c in result.prediction_set]
                sizes.append(len(picks))
                unique += picks == [by_id[spec.id].index]
                top1 += bool(result.best) and result.best.pick == by_id[spec.id].index
                if picks != [by_id[spec.id].index] and len(failures) < 8:
                    failures.append(f"{text!r}: set {picks}, meant {by_id[spec.id].index} ({by_id[spec.id].describe()})")
            for shape in SYNONYMS:
                same = {by_id[o.id].index for o in scene.objects if o.shape == shape and o.id in by_id}
                if len(same) > 1:
                    ambiguous += 1
                    got = {c.pick for c in grounder.ground(f"pick up the {shape}", seen).prediction_set}
                    covered += same <= got
    finally:
        arm.disconnect()
    n = max(requests, 1)
    return GroundingAccuracy(scenes=scenes, requests=requests, unique=unique / n, top1=top1 / n,
                             mean_set_size=float(np.mean(sizes)) if sizes else 0.0, ambiguous_requests=ambiguous,
                             coverage=covered / max(ambiguous, 1), failures=failures)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--viewpoint", choices=("user", "robot"), default="user")
    parser.add_argument("--segmenter", choices=("sim", "depth"), default="sim",
                        help="depth: masks from depth + colour (no simulator labels); sim: the simulator's mask")
    args = parser.parse_args(argv)
    print(measure(args.scenes, args.seed, args.image_size, args.viewpoint,
                  depth_segmentation=args.segmenter == "depth").model_dump_json(indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
