"""What perception reads when an object lies in a bowl of its own colour: both segmentation paths.

    python -m benchmarks.bench_bowl_contents

Every bowl size x every graspable shape x every size, the object set at the bowl's centre and
2 cm (x and y) off it, a blue cube elsewhere on the table; rendered at the agent's look (160 px).
Prints, per path (the simulator's mask, the depth + colour segmenter), how many scenes show
three objects, and how many read all three exactly (colour, shape, size), with the misreadings.
"""

from __future__ import annotations

import argparse
import itertools

from perception.depth_segmentation import DepthSegmenter
from perception.proposals import perceive
from sim.objects import BOWL_BASE
from sim.scene import SIZE_METRES, ObjectSpec, SceneSpec
from vocab.words import SIZES


def scenes() -> list[tuple[str, str, str, float]]:
    """(bowl size, shape, size, offset m) for every placed case."""
    return list(itertools.product(SIZES, ("cube", "ball", "cylinder"), SIZES, (0.0, 0.02)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=160, help="frame size (px)")
    args = parser.parse_args(argv)
    from sim.pybullet_arm import PyBulletArm

    arm = PyBulletArm()
    arm.connect()
    arm.detail_size = args.size
    counts = {"mask": [0, 0], "depth": [0, 0]}
    wrong: dict[str, list[str]] = {"mask": [], "depth": []}
    cases = scenes()
    for bowl, shape, size, off in cases:
        arm.load_scene(SceneSpec(objects=[
            ObjectSpec(id="bowl", shape="bowl", color="red", size=bowl, position=(0.5, 0.0)),
            ObjectSpec(id="in", shape=shape, color="red", size=size, position=(0.5, 0.2)),
            ObjectSpec(id="other", shape="cube", color="blue", size="small", position=(0.6, -0.2))]))
        lift = BOWL_BASE + SIZE_METRES[size] / 2 + 0.002
        arm.client.resetBasePositionAndOrientation(arm.bodies.body_of["in"], [0.5 + off, off, lift], [0, 0, 0, 1])
        for _ in range(200):
            arm.client.stepSimulation()
        obs = arm.get_observation(detail=True)
        truth = sorted([f"{bowl} red bowl", f"{size} red {shape}", "small blue cube"])
        looks = {"mask": perceive(obs, "user", labels=arm.segmentation_labels),
                 "depth": perceive({k: v for k, v in obs.items() if k != "segmentation"}, "user",
                                   segmenter=DepthSegmenter())}
        for path, seen in looks.items():
            read = sorted(o.describe() for o in seen.objects)
            counts[path][0] += len(read) == 3
            counts[path][1] += read == truth
            if read != truth:
                wrong[path].append(f"{size} {shape} in a {bowl} bowl -> {', '.join(r for r in read if 'blue' not in r)}")
    print(f"{len(cases)} scenes, {args.size} px\n")
    print("| path | three objects | all read right |\n|---|---:|---:|")
    for path, (three, right) in counts.items():
        print(f"| {path} | {three} | {right} |")
    for path, lines in wrong.items():
        print(f"\n{path}: {len(lines)} misread")
        for line in lines:
            print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
