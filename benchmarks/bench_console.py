"""The operator console's bars, in one run: how far behind the page shows the arm, what streaming
costs the control loop, and how fast STOP holds the arm.

    python -m benchmarks.bench_console [--rounds 8] [--stops 10] [--json out.json]

1. and 2. One console on the `two-red-cubes` table (expert policy). A round is two motions,
   "put the red cube on the left in the green bowl", then "put it back"; rounds alternate
   between a headless Chromium page connected (camera frames up to 10/s, states up to 30/s,
   every event) and no page (the browser parked on about:blank), so load on the shared machine
   falls on both sides alike. Reported: control steps per wall second during the motions, with
   and without the page, and their ratio (pooled steps over pooled time, and the median of
   adjacent-round ratios); the state lag: for every arm state the page shows during a motion,
   the page's clock when it updated the arm panel minus the simulator's clock right after that
   control step (ms; one machine, one clock): p50 / p95 / max; frames the page drew per second.
3. STOP (stop-mid-motion table, "pick up the yellow can"): the STOP button clicked in the page
   at a random step (3-12) of the reach; moving steps begun after STOP reached the server (0: the
   very next step held the arm; 1: the step whose chunk was being computed ran first), click ->
   server and click -> hold done (ms, page clock to server clock), against the median wall
   time of one control step.

Servers on 127.0.0.1 only; every wait is bounded. Wall-clock figures move with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


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


def motion(app: Any, text: str) -> tuple[float, float, int, Any]:
    """Say ``text`` and wait for its outcome: (first step time, last step time, steps, outcome)."""
    before = len(app.live.transcript.of_kind("outcome"))
    start = time.time()
    app.channel.put_text(text)
    outcome = wait_outcome(app, before)
    times = [t for t in app.feed.step_times if t >= start]
    return (times[0], times[-1], len(times), outcome) if times else (start, start, 0, outcome)


def run_rounds(rounds: int, run_dir: Path) -> dict[str, Any]:
    from console.headless import chromium_page, running_console

    argv = ["--scene", str(ROOT / "scenarios" / "two-red-cubes.yaml"), "--policy", "expert", "--run-dir", str(run_dir)]
    side: dict[bool, list[tuple[float, int]]] = {True: [], False: []}  # page -> [(seconds, steps)]
    lags: list[float] = []
    fps: list[float] = []
    with running_console(argv) as (app, server), chromium_page() as page:
        for r in range(rounds):
            with_page = r % 2 == 0
            if with_page:
                page.goto(server.url)
                page.wait_for_function("window.consoleStats.frames > 0 && document.getElementById('turn').textContent === 'your turn'")
            else:
                page.goto("about:blank")
                while app.feed.watched or not app.channel.idle:
                    time.sleep(0.02)
            spans = []
            for text in ("put the red cube on the left in the green bowl", "put it back"):
                t0, t1, steps, outcome = motion(app, text)
                if steps > 1:
                    side[with_page].append((t1 - t0, steps - 1))
                    spans.append((t0, t1))
            if with_page:
                stats = page.evaluate("window.consoleStats")
                lags += stats["stateLags"]
                drawn = [t / 1000 for t in stats["frameTimes"] if any(a <= t / 1000 <= b for a, b in spans)]
                fps.append(len(drawn) / sum(b - a for a, b in spans))
            print(f"round {r} page={with_page}: " + ", ".join(f"{n / s:.1f}" for s, n in side[with_page][-2:])
                  + " steps/s", flush=True)
    rate = {k: sum(n for _, n in v) / sum(s for s, _ in v) for k, v in side.items()}
    per_round = {k: [sum(n for _, n in v[i:i + 2]) / sum(s for s, _ in v[i:i + 2]) for i in range(0, len(v), 2)]
                 for k, v in side.items()}
    adjacent = [w / wo for w, wo in zip(per_round[True], per_round[False])]
    return {"rate_with_page": rate[True], "rate_without_page": rate[False], "rate_ratio": rate[True] / rate[False],
            "adjacent_ratios": adjacent, "lags_ms": lags, "page_fps": statistics.median(fps)}


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
    parser.add_argument("--rounds", type=int, default=8, help="rounds of two motions, alternating page / no page")
    parser.add_argument("--stops", type=int, default=10, help="STOP clicks measured")
    parser.add_argument("--run-dir", type=Path, default=Path("/tmp/bench_console"), help="session folders")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    from console.headless import browser_unavailable

    reason = browser_unavailable()
    if reason:
        print(f"bench_console: {reason}", file=sys.stderr)
        return 2
    loop = run_rounds(args.rounds, args.run_dir / "rounds")
    stops = run_stops(args.stops, args.run_dir / "stops", random.Random(12900))
    lags = loop.pop("lags_ms")
    figures = {**loop, "state_lag_ms": {"p50": pct(lags, 0.5), "p95": pct(lags, 0.95), "max": max(lags), "n": len(lags)},
               "stops": stops}
    sl, ratios = figures["state_lag_ms"], figures["adjacent_ratios"]
    print("\n| measure | value | bar |\n|---|---|---|")
    print(f"| state lag, page behind sim (ms) p50 / p95 / max (n={sl['n']}) | {sl['p50']:.1f} / {sl['p95']:.1f} / {sl['max']:.1f} | p95 <= 200 |")
    print(f"| control steps/s without page / with page | {figures['rate_without_page']:.1f} / {figures['rate_with_page']:.1f} | |")
    print(f"| with/without, pooled (median of {len(ratios)} adjacent rounds) | {figures['rate_ratio']:.3f} "
          f"({statistics.median(ratios):.3f}) | >= 0.90 |")
    print(f"| frames drawn by the page per second of motion | {figures['page_fps']:.1f} | several |")
    moves = [s["moves_after"] for s in stops]
    print(f"| STOP: moving steps begun after it reached the server, per click | {moves} | <= 1 (within one step) |")
    print(f"| STOP: click -> server / click -> hold done (ms, median) | {statistics.median(s['click_to_server_ms'] for s in stops):.1f} / "
          f"{statistics.median(s['click_to_hold_ms'] for s in stops):.1f} | |")
    print(f"| one control step, wall (ms, median) | {statistics.median(s['step_ms'] for s in stops):.1f} | |")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
