"""Planning latency: what reading a request into a plan adds per instruction (bar: <= 50 ms on CPU).

    python -m benchmarks.bench_plan [--seeds 11200-11399] [--repeats 5]

Side by side, on the same tables (the ``multistep`` suite's scenes, their objects given to the
planner as perceived objects with true colours, shapes and positions, as perception hands them):

- ``single``: a single-object request of each table ("put the red cube in the green bowl"):
  what the ``plan`` node costs a request that is no plan (it reads it and passes it on);
- ``multi``: the suite's compound request: read it (``parse_compound``) and expand it on the
  look (``expand``), with the calibrated grounder resolving each phrase step, as the node does.

Each instruction is planned ``--repeats`` times and its fastest time kept (timeit's rule: the
slower ones measure the load of the shared machine). Prints median, 95th percentile and max
milliseconds per instruction over the tables, and the ratio multi/single.
Wall-clock timings (time.perf_counter) on a shared machine; the figures vary with its load.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable, Optional


def _perceived(scene: Any) -> Any:
    from perception.types import PerceivedObject, SceneObservation

    objects = [PerceivedObject(index=i + 1, color=o.color, shape=o.shape, size=o.size,
                               position=(o.position[0], o.position[1], 0.02), box=(0, 0, 1, 1),
                               color_scores={o.color: 1.0}, shape_scores={o.shape: 1.0}, sim_id=o.id)
               for i, o in enumerate(scene.objects)]
    return SceneObservation(objects=objects, viewpoint=scene.viewpoint)


def _resolver(grounder: Any, calibration: Any, scene: Any) -> Callable[[str], Optional[int]]:
    def resolve(words: str) -> Optional[int]:
        raw = grounder.ground(words, scene)
        result = calibration.apply(raw) if calibration is not None else raw
        picks = {c.pick for c in result.prediction_set}
        return picks.pop() if len(picks) == 1 else None

    return resolve


def _plan_ms(text: str, scene: Any, resolve: Callable[[str], Optional[int]]) -> tuple[float, int]:
    from agent.plan_parse import expand, parse_compound

    start = time.perf_counter()
    request = parse_compound(text)
    steps = len(expand(request, scene, resolve).steps) if request is not None else 1
    return (time.perf_counter() - start) * 1000.0, steps


def main(argv: Optional[list[str]] = None) -> None:
    from agent.suites import make_suite, parse_seeds
    from perception.conformal import DEFAULT_CALIBRATION, ConformalCalibration
    from perception.grounding import Grounder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="11200-11399")
    parser.add_argument("--repeats", type=int, default=5, help="timings per instruction (the fastest is kept: "
                        "the planner's own cost, not the time the shared machine took the CPU away)")
    args = parser.parse_args(argv)
    scenarios = make_suite("multistep", parse_seeds(args.seeds))
    grounder = Grounder()
    calibration = ConformalCalibration.load(DEFAULT_CALIBRATION) if DEFAULT_CALIBRATION.is_file() else None
    rows: dict[str, list[float]] = {"single": [], "multi": []}
    steps: list[int] = []
    for scenario in scenarios:
        scene = _perceived(scenario.scene)
        resolve = _resolver(grounder, calibration, scene)
        first = scenario.scene.get(scenario.user.first.pick)
        bowl = scenario.scene.get(scenario.user.first.place)
        single = f"put the {first.color} {first.shape} in the {bowl.color} bowl"
        for name, text in (("single", single), ("multi", scenario.instruction)):
            timings = [_plan_ms(text, scene, resolve) for _ in range(args.repeats)]
            rows[name].append(min(t for t, _ in timings))
            if name == "multi":
                steps.append(timings[0][1])
    print(f"planning latency over {len(scenarios)} tables (multistep seeds {args.seeds}), ms per instruction")
    print(f"{'request':<8} {'median':>8} {'p95':>8} {'max':>8}")
    for name, values in rows.items():
        values = sorted(values)
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        print(f"{name:<8} {statistics.median(values):>8.2f} {p95:>8.2f} {values[-1]:>8.2f}")
    ratio = statistics.median(rows["multi"]) / max(statistics.median(rows["single"]), 1e-9)
    print(f"multi / single (median): x{ratio:.1f}; steps planned: mean {statistics.mean(steps):.2f}, "
          f"max {max(steps)}; bar: <= 50 ms per instruction -> "
          f"{'met' if max(rows['multi']) <= 50.0 else 'NOT met'} (max {max(rows['multi']):.1f} ms)")


if __name__ == "__main__":
    main()
