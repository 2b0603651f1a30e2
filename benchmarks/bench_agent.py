"""Agent overhead benchmark: what thinking costs next to simulating, and a suite's wall time.

    python -m benchmarks.bench_agent [--episodes 10] [--suite-size 50] [--workers 2]

1. Bare sim loop (same process, same run): ms per control step with a zero action (physics
   only: 24 substeps at 240 Hz), and ms per camera render at the episode's image size.
2. Agent, per decision and per control step, over ``--episodes`` scenarios (two per suite):
   every call to perceive, ground, the executor, the arm and the camera is timed through thin
   wrappers; "graph" is the rest of the session's wall time (decide, routing, SQLite
   checkpoints, transcript). Agent overhead per step = (perceive + ground + graph) / steps.
3. Wall time of a ``--suite-size`` scenario run (equal parts of every suite) with ``--workers``
   processes, as ``python main.py episodes --suite ...`` would run it.
Wall-clock timings (time.perf_counter); they vary with load on the machine's 2 shared cores.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional


@dataclass
class Timer:
    """Accumulated wall time (s) and call count per named component."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
                self.calls[name] += 1

        return timed


class _TimedGrounder:
    """Delegates to a grounder, timing ``ground`` / ``filter`` / ``refine`` as "ground"."""

    def __init__(self, inner: Any, timer: Timer) -> None:
        self._inner, self._timer = inner, timer

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        return self._timer.wrap("ground", attr) if name in ("ground", "filter", "refine") else attr


def bench_sim_loop(image_size: int, steps: int = 100) -> dict[str, float]:
    """ms per zero-action control step and per camera render, on a two-object scene."""
    import numpy as np

    from agent.suites import make_scenario
    from sim.tabletop_env import TabletopEnv

    scenario = make_scenario("unambiguous", 0)
    env = TabletopEnv(image_size=image_size)
    try:
        env.reset(seed=0, options={"scene": scenario.scene, "task": scenario.user.first.to_task()})
        zero = np.zeros(7, dtype=np.float32)
        start = time.perf_counter()
        for _ in range(steps):
            env.arm.send_action(zero)
        step_ms = (time.perf_counter() - start) / steps * 1e3
        start = time.perf_counter()
        for _ in range(steps // 4):
            env.arm.get_observation(render=True)
        render_ms = (time.perf_counter() - start) / (steps // 4) * 1e3
    finally:
        env.close()
    return {"step_ms": step_ms, "render_ms": render_ms}


def bench_agent(n_episodes: int, image_size: int, run_dir: Path, policy: str = "vla") -> tuple[Timer, int, int, float]:
    """Run ``n_episodes`` suite scenarios with every component timed; (timer, steps, decisions, wall s)."""
    from agent.runner import RunConfig, answer_question, build_episode
    from agent.suites import SUITES, make_scenario
    from agent.driver import Question

    timer, steps, decisions, wall = Timer(), 0, 0, 0.0
    names = sorted(SUITES)
    config = RunConfig(image_size=image_size, policy=policy)
    for k in range(n_episodes):
        scenario = make_scenario(names[k % len(names)], k // len(names))
        ep = build_episode(scenario, config, run_dir, seed=k)
        ctx = ep.session.context
        try:
            ctx.perceive = timer.wrap("perceive", ctx.perceive)
            ctx.grounder = _TimedGrounder(ctx.grounder, timer)
            ctx.executor.select_action = timer.wrap("executor", ctx.executor.select_action)
            ctx.arm.send_action = timer.wrap("sim step", ctx.arm.send_action)
            ctx.arm.get_observation = timer.wrap("camera", ctx.arm.get_observation)
            start = time.perf_counter()
            turn = ep.session.start(scenario.instruction)
            while isinstance(turn, Question):
                turn = ep.session.resume(answer_question(ep, turn))
            wall += time.perf_counter() - start
            steps += turn.steps
            decisions += ep.perception.looks
        finally:
            ep.env.close()
    return timer, steps, decisions, wall


def bench_suite(size: int, workers: int, image_size: int, run_dir: Path, policy: str = "vla") -> tuple[float, Any]:
    """Wall seconds (and the summary) of a ``size``-scenario run split evenly over all suites."""
    from agent.runner import RunConfig, run_all
    from agent.suites import SUITES, make_scenario

    names = sorted(SUITES)
    scenarios = [make_scenario(names[i % len(names)], 100 + i // len(names)) for i in range(size)]
    start = time.perf_counter()
    report = run_all(scenarios, [], RunConfig(image_size=image_size, policy=policy), run_dir, workers=workers)
    return time.perf_counter() - start, report.summary


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10, help="instrumented agent episodes")
    parser.add_argument("--suite-size", type=int, default=50, help="scenarios in the wall-time run (0 = skip)")
    parser.add_argument("--workers", type=int, default=2, help="processes for the wall-time run")
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--policy", default="vla", choices=("vla", "expert"),
                        help="executor (docs/RESULTS.md, \"Agent overhead\", used expert)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        sim = bench_sim_loop(args.image_size)
        timer, steps, decisions, wall = bench_agent(args.episodes, args.image_size, Path(tmp) / "agent", args.policy)
        measured = sum(timer.seconds.values())
        graph = max(wall - measured, 0.0)
        print(f"\nagent overhead: {args.episodes} episodes, {steps} control steps, {decisions} looks, "
              f"{args.image_size}px camera, wall {wall:.2f} s")
        print(f"{'component':<34}{'calls':>7}{'total s':>9}{'ms/call':>9}{'ms/step':>9}")
        rows = [(name, timer.calls[name], timer.seconds[name]) for name in
                ("perceive", "ground", "executor", "sim step", "camera")]
        rows.append(("graph (decide, checkpoints, log)", decisions, graph))
        for name, calls, secs in rows:
            per_call = secs / calls * 1e3 if calls else 0.0
            print(f"{name:<34}{calls:>7}{secs:>9.2f}{per_call:>9.1f}{secs / max(steps, 1) * 1e3:>9.2f}")
        agent_s = timer.seconds["perceive"] + timer.seconds["ground"] + graph
        print(f"{'bare sim loop: zero-action step':<34}{'':>7}{'':>9}{sim['step_ms']:>9.1f}")
        print(f"{'bare sim loop: camera render':<34}{'':>7}{'':>9}{sim['render_ms']:>9.1f}")
        print(f"agent (perceive+ground+graph) per decision: {agent_s / max(decisions, 1) * 1e3:.1f} ms; "
              f"per control step: {agent_s / max(steps, 1) * 1e3:.2f} ms = "
              f"{agent_s / max(steps, 1) * 1e3 / sim['step_ms']:.2f}x a bare sim step")
        if args.suite_size:
            secs, summary = bench_suite(args.suite_size, args.workers, args.image_size, Path(tmp) / "suite", args.policy)
            print(f"\nsuite of {args.suite_size} scenarios, {args.workers} worker(s): wall {secs:.1f} s "
                  f"({secs / args.suite_size:.2f} s/scenario); passed {summary.passed}/{summary.episodes}, "
                  f"success_rate {summary.success_rate:.2f}, ask_rate {summary.ask_rate:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
