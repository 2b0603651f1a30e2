"""The operator console's bars, in one run: how far behind the page shows the arm, what streaming
costs the control loop, and how fast STOP holds the arm.

    python -m benchmarks.bench_console [--seeds 12900-12905] [--stops 6] [--json out.json]

Each scene (sampled from a seed, 4 objects) is run twice with the same instruction ("put the
<colour> <shape> next to the <colour> <shape>", objects nothing else is like; expert policy):
once with a headless Chromium page connected (camera frames at up to 10 fps, every arm state,
every event) and once with none. The order alternates between seeds, so drift on a shared
machine falls on both sides. Reported:

1. state lag: for every arm state the page shows during a motion, the page's clock when it
   updated the arm panel minus the simulator's clock right after that control step (ms; one
   machine, one clock): p50 / p95 / max;
2. control loop: control steps per wall second during the motion, with the page vs without,
   and their ratio (median over seeds); frames per second the page drew;
3. STOP (stop-mid-motion scene, "pick up the yellow can"): the STOP button clicked in the page
   at a random step of the reach; moving steps the arm took after STOP reached the server
   (0: the very next control step held it), click -> server and click -> hold (ms), against
   the median wall time of one control step.

Servers on 127.0.0.1 only; every wait is bounded. Wall-clock figures move with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def seed_range(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def instruction_for(seed: int) -> str:
    """'put the <colour> <shape> next to the <colour> <shape>': the first two objects of the
    seed's scene that nothing else shares colour and shape with (a pick up when only one is)."""
    import numpy as np

    from sim.scene import sample_scene

    scene = sample_scene(np.random.default_rng(seed), n_objects=4)
    kinds = Counter((o.color, o.shape) for o in scene.objects)
    unique = [o for o in scene.objects if kinds[(o.color, o.shape)] == 1]
    movable = [o for o in unique if o.shape != "bowl"]
    obj = movable[0]
    others = [o for o in unique if o is not obj]
    if not others:
        return f"pick up the {obj.color} {obj.shape}"
    return f"put the {obj.color} {obj.shape} next to the {others[0].color} {others[0].shape}"


def wait_outcome(app: Any, before: int, timeout: float = 120.0) -> Any:
    """The outcome event after ``before`` outcomes, once the agent is idle again."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done = app.live.transcript.of_kind("outcome")
        if len(done) > before and app.channel.idle:
            return done[-1]
        time.sleep(0.02)
    raise TimeoutError("no outcome within the time limit")


def motion_rate(app: Any, since: float) -> tuple[float, int]:
    """(control steps per wall second, steps) over the steps after ``since``."""
    times = [t for t in app.feed.step_times if t >= since]
    if len(times) < 2:
        return float("nan"), len(times)
    return (len(times) - 1) / (times[-1] - times[0]), len(times)


def run_scene(seed: int, with_page: bool, run_dir: Path) -> dict[str, Any]:
    from console.headless import chromium_page, running_console

    argv = ["--seed", str(seed), "--policy", "expert", "--run-dir", str(run_dir)]
    with running_console(argv) as (app, server):
        page: Optional[Any] = None
        if with_page:
            page_cm = chromium_page()
            page = page_cm.__enter__()
            page.goto(server.url)
            page.wait_for_function("window.consoleStats.frames > 0 && document.getElementById('turn').textContent === 'your turn'")
        else:
            while not app.channel.idle:
                time.sleep(0.02)
        try:
            start = time.time()
            app.channel.put_text(instruction_for(seed))
            outcome = wait_outcome(app, 0)
            rate, steps = motion_rate(app, start)
            row: dict[str, Any] = {"seed": seed, "page": with_page, "rate": rate, "steps": steps,
                                   "success": bool(outcome.data.get("success"))}
            if page is not None:
                stats = page.evaluate("window.consoleStats")
                row["lags_ms"] = stats["stateLags"]
                times = [t for t in app.feed.step_times if t >= start]
                drawn = [t / 1000 for t in stats["frameTimes"] if len(times) > 1 and times[0] <= t / 1000 <= times[-1]]
                row["fps"] = len(drawn) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        finally:
            if page is not None:
                page_cm.__exit__(None, None, None)
    return row


def run_stops(n: int, run_dir: Path, rng: random.Random) -> list[dict[str, Any]]:
    from console.headless import chromium_page, running_console

    argv = ["--scene", str(ROOT / "scenarios" / "stop-mid-motion.yaml"), "--policy", "expert", "--run-dir", str(run_dir)]
    rows = []
    with running_console(argv) as (app, server), chromium_page() as page:
        page.goto(server.url)
        for i in range(n):
            page.wait_for_function("document.getElementById('turn').textContent === 'your turn'")
            before = len(app.live.transcript.of_kind("outcome"))
            steps0 = app.feed.steps
            at = rng.randint(3, 12)
            app.channel.put_text("pick up the yellow can")
            end = time.monotonic() + 60
            while app.feed.steps - steps0 < at and time.monotonic() < end:
                time.sleep(0.002)
            t0 = time.time()
            page.click("#stop")
            wait_outcome(app, before)
            stop = app.channel.stops[-1]
            times = [t for t in app.feed.step_times if t >= t0 - 2.0]
            step_s = statistics.median(b - a for a, b in zip(times, times[1:]))
            rows.append({"moves_after": stop.moves_after, "click_to_server_ms": 1000 * (stop.t_received - stop.t_page),
                         "click_to_hold_ms": 1000 * ((stop.t_held or float("nan")) - stop.t_page), "step_ms": 1000 * step_s})
            page.fill("#text", "put it back")  # the next stop starts from the table as it was
            page.press("#text", "Enter")
            wait_outcome(app, before + 1)
    return rows


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="12900-12905", help="scene seeds (fresh block, nothing tuned on them)")
    parser.add_argument("--stops", type=int, default=6, help="STOP clicks measured")
    parser.add_argument("--run-dir", type=Path, default=Path("/tmp/bench_console"), help="session folders")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    from console.headless import browser_unavailable

    reason = browser_unavailable()
    if reason:
        print(f"bench_console: {reason}", file=sys.stderr)
        return 2
    rows = []
    for i, seed in enumerate(seed_range(args.seeds)):
        for with_page in ((True, False) if i % 2 == 0 else (False, True)):
            rows.append(run_scene(seed, with_page, args.run_dir / f"{seed}-{'page' if with_page else 'none'}"))
            print(f"seed {seed} page={with_page}: {rows[-1]['rate']:.1f} steps/s over {rows[-1]['steps']} steps, "
                  f"success={rows[-1]['success']}", flush=True)
    lags = [lag for r in rows if r["page"] for lag in r["lags_ms"]]
    ratios = []
    for seed in seed_range(args.seeds):
        w = next(r for r in rows if r["seed"] == seed and r["page"])
        wo = next(r for r in rows if r["seed"] == seed and not r["page"])
        ratios.append(w["rate"] / wo["rate"])
    stops = run_stops(args.stops, args.run_dir / "stops", random.Random(12900))
    figures = {
        "state_lag_ms": {"p50": pct(lags, 0.5), "p95": pct(lags, 0.95), "max": max(lags), "n": len(lags)},
        "rate_with_page": statistics.median(r["rate"] for r in rows if r["page"]),
        "rate_without_page": statistics.median(r["rate"] for r in rows if not r["page"]),
        "rate_ratio_median": statistics.median(ratios), "rate_ratios": ratios,
        "page_fps": statistics.median(r["fps"] for r in rows if r["page"]),
        "stops": stops,
    }
    print("\n| measure | value | bar |\n|---|---|---|")
    sl = figures["state_lag_ms"]
    print(f"| state lag, page behind sim (ms) p50 / p95 / max (n={sl['n']}) | {sl['p50']:.1f} / {sl['p95']:.1f} / {sl['max']:.1f} | p95 <= 200 |")
    print(f"| control steps/s without page / with page | {figures['rate_without_page']:.1f} / {figures['rate_with_page']:.1f} | |")
    print(f"| with/without ratio, median of {len(ratios)} seeds (min) | {figures['rate_ratio_median']:.3f} ({min(ratios):.3f}) | >= 0.90 |")
    print(f"| frames drawn by the page per second | {figures['page_fps']:.1f} | several |")
    moves = [s["moves_after"] for s in stops]
    print(f"| STOP: moving steps after it reached the server, per click | {moves} | <= 1 (within one step) |")
    print(f"| STOP: click -> server / click -> hold (ms, median) | {statistics.median(s['click_to_server_ms'] for s in stops):.1f} / "
          f"{statistics.median(s['click_to_hold_ms'] for s in stops):.1f} | |")
    print(f"| one control step, wall (ms, median) | {statistics.median(s['step_ms'] for s in stops):.1f} | |")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
