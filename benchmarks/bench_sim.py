"""Simulator benchmark: scripted-expert success per task kind, control-step and render cost.

    python -m benchmarks.bench_sim [--seeds 200] [--kinds pick place_in ...] [--resolutions 64 96 128 224]

1. Expert success: for every task kind, ``--seeds`` scenes sampled with seed
   ``(seed, kind index)``, each run to termination (success) or ``--max-steps`` control steps
   in a state-only :class:`TabletopEnv`. Reports success rate, mean control steps, failures.
2. Control step: ms per ``send_action`` (clip + IK + 24 physics substeps at 240 Hz) in a
   4-object scene, images off.
3. Render: ms per front-camera frame (TinyRenderer, rgb + depth + segmentation) per resolution.
Timings are wall-clock (time.perf_counter) and vary with load on the shared CPU cores.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class KindResult:
    """Expert outcome over the seeds of one task kind."""

    kind: str
    successes: int = 0
    episodes: int = 0
    steps: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.successes / max(self.episodes, 1)


def expert_success(kinds: list[str], seeds: int, max_steps: int) -> list[KindResult]:
    from sim.expert import ScriptedExpert
    from sim.tabletop_env import TabletopEnv
    from sim.task_sampling import TASK_KINDS, sample_scene_and_task

    env = TabletopEnv(images=False, max_episode_steps=max_steps)
    results = []
    for kind in kinds:
        res = KindResult(kind)
        for seed in range(seeds):
            scene, task = sample_scene_and_task(np.random.default_rng((seed, TASK_KINDS.index(kind))), kind)
            obs, info = env.reset(seed=seed, options={"scene": scene, "task": task})
            expert = ScriptedExpert(task, scene)
            finished = False
            while not finished:
                for action in expert.next_actions(obs["state"], env.object_poses()):
                    obs, _, terminated, truncated, info = env.step(action)
                    finished = terminated or truncated
                    if finished:
                        break
            res.episodes += 1
            res.successes += int(info["success"])
            res.steps.append(int(info["steps"]))
            if not info["success"]:
                res.failures.append(f"seed {seed} {task}: {info['success_reason']} (phase {expert.phase})")
        results.append(res)
        print(f"  {kind:<18} {res.rate:6.1%}  ({res.successes}/{res.episodes}), mean steps {np.mean(res.steps):.1f}", flush=True)
    env.close()
    return results


def step_and_render_ms(resolutions: list[int], repeats: int) -> tuple[float, dict[int, float]]:
    from sim.pybullet_arm import PyBulletArm
    from sim.pybullet_camera import CameraConfig, render
    from sim.scene import sample_scene

    arm = PyBulletArm(render=False)
    arm.connect()
    arm.load_scene(sample_scene(np.random.default_rng(0), 4))
    zero = np.zeros(7, dtype=np.float32)
    start = time.perf_counter()
    for _ in range(repeats):
        arm.send_action(zero)
    step_ms = (time.perf_counter() - start) / repeats * 1000.0
    render_ms = {}
    for res in resolutions:
        cfg = CameraConfig(width=res, height=res)
        render(arm.client, cfg)  # warm-up
        start = time.perf_counter()
        for _ in range(repeats):
            arm.segment(render(arm.client, cfg).body_mask)
        render_ms[res] = (time.perf_counter() - start) / repeats * 1000.0
    arm.disconnect()
    return step_ms, render_ms


def main(argv: list[str] | None = None) -> int:
    from sim.task_sampling import TASK_KINDS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200, help="scenes per task kind")
    parser.add_argument("--kinds", nargs="+", default=list(TASK_KINDS), choices=list(TASK_KINDS))
    parser.add_argument("--max-steps", type=int, default=200, help="control steps before giving up")
    parser.add_argument("--resolutions", nargs="+", type=int, default=[64, 96, 128, 224])
    parser.add_argument("--repeats", type=int, default=50, help="timed repetitions per figure")
    parser.add_argument("--show-failures", type=int, default=5, help="failures listed per kind")
    args = parser.parse_args(argv)

    print(f"Expert success over {args.seeds} seeds per task kind:")
    results = expert_success(args.kinds, args.seeds, args.max_steps)
    step_ms, render_ms = step_and_render_ms(args.resolutions, args.repeats)

    print("\n| task kind | success | episodes | mean steps |")
    print("|---|---|---|---|")
    for r in results:
        print(f"| {r.kind} | {r.rate:.1%} | {r.episodes} | {np.mean(r.steps):.1f} |")
    total = sum(r.successes for r in results), sum(r.episodes for r in results)
    print(f"| all | {total[0] / max(total[1], 1):.1%} | {total[1]} | |")
    print(f"\ncontrol step (IK + 24 substeps @ 240 Hz, no images): {step_ms:.2f} ms")
    print("| resolution | render ms (rgb+depth+seg) |")
    print("|---|---|")
    for res, ms in render_ms.items():
        print(f"| {res}x{res} | {ms:.1f} |")
    for r in results:
        for line in r.failures[: args.show_failures]:
            print(f"FAIL {r.kind}: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
