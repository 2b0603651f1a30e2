"""``kill -9`` benchmarks: a session killed at every graph node and at control steps, then
resumed; and an ``episodes`` run with 2 workers one of which is killed. Prints two tables.

    .venv/bin/python -m benchmarks.bench_kill                  # both
    .venv/bin/python -m benchmarks.bench_kill --part workers --episodes 30

Sessions (``benchmarks/kill_harness.py``): the real ``session`` command, scripted expert, a
scripted person, on the two-red-cubes table; killed on entering the k-th run of a node or
before the n-th control step, resumed by id alone; checked: SQLite integrity, dialogue and
transcript before the kill kept, seq consecutive, no control step twice, no run left over.

Workers: ``main.py episodes --suite unambiguous --seeds 0-N --workers 2 --policy expert``; once
``--kill-after`` transcripts exist one worker process gets SIGKILL; checked: the report has a
row for every episode and the killed one carries the error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.kill_harness import TWO_RED_CUBES, check_resume, run_child, snapshot

ROOT = Path(__file__).resolve().parents[1]
PICK = ["pick up the red cube"]
PUT = ["put the red cube in the green bowl"]
#: (kill option, value, what the person says). Every node a scripted expert session reaches;
#: reperceive needs a words-vs-image doubt the expert's sessions never raise.
SESSION_CASES: list[tuple[str, str, list[str]]] = [
    *[("--kill-node", n, PICK) for n in ("listen:1", "perceive:1", "ground:1", "decide:1", "clarify:1",
                                        "clarify:2", "ground:2", "decide:2", "act:1", "verify:1", "report:1")],
    ("--kill-node", "refuse:1", ["pick up the purple elephant"]),
    ("--kill-node", "put_back:1", [*PICK, "no, the other one"]),
    ("--kill-node", "listen:2", [*PICK, "no, the other one"]),
    *[("--kill-step", str(n), PUT) for n in (1, 5, 15, 25, 35, 45, 55)],
]


@dataclass
class SessionRow:
    point: str
    killed: bool
    resumed_rc: int
    how: str
    problems: list[str]
    seconds: float


def kill_session(option: str, value: str, say: list[str], folder: Path) -> SessionRow:
    start = time.perf_counter()
    scene = folder / "scene.yaml"
    scene.write_text(TWO_RED_CUBES)
    runs = folder / "runs"
    killed = run_child(["--run-dir", str(runs), "--session-id", "s1", "--scene", str(scene), option, value,
                        "--say", *say])
    before = snapshot(runs / "s1", "s1")
    resumed = run_child(["--run-dir", str(runs), "--session-id", "s1"])
    after = snapshot(runs / "s1", "s1")
    shown = " ".join(resumed.shown)
    asked = ", asked its question" if "robot asks:" in shown else ""
    how = ("cut motion told" if "was cut" in shown else f"run carried on{asked}" if before.unfinished
           else "question still pending, asked again" if asked else "nothing left to do")
    label = f"{'node' if option == '--kill-node' else 'step'} {value}"
    return SessionRow(label, killed.code == -signal.SIGKILL, resumed.code, how, check_resume(before, after),
                      time.perf_counter() - start)


def bench_sessions() -> list[SessionRow]:
    rows = []
    for option, value, say in SESSION_CASES:
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(kill_session(option, value, say, Path(tmp)))
    return rows


@dataclass
class WorkerRun:
    episodes: int
    rows: int
    errors: list[str]
    killed_pid: int
    seconds: float


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmd = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and b"spawn_main" in cmd:  # a multiprocessing spawn worker
            kids.append(int(stat.parent.name))
    return kids


def bench_workers(episodes: int = 30, kill_after: int = 4, folder: Path | None = None) -> WorkerRun:
    """Run the suite on 2 workers, SIGKILL one worker once ``kill_after`` transcripts exist."""
    folder = folder or Path(tempfile.mkdtemp(prefix="bench-kill-"))
    run_dir, report = folder / "run", folder / "report.json"
    cmd = [sys.executable, "main.py", "episodes", "--suite", "unambiguous", "--seeds", f"0-{episodes - 1}",
           "--workers", "2", "--policy", "expert", "--consistency", "off", "--calibration", "off", "--no-progress",
           "--run-dir", str(run_dir), "--report", str(report)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    victim = 0
    while proc.poll() is None and not victim:
        time.sleep(0.5)
        done = len(list((run_dir / "transcripts").glob("*.jsonl"))) if (run_dir / "transcripts").exists() else 0
        workers = _children(proc.pid)
        if done >= kill_after and workers:
            victim = workers[0]
            os.kill(victim, signal.SIGKILL)
    proc.wait(timeout=1800)
    data = json.loads(report.read_text())
    errors = [f"{r['name']}: {r['error']}" for r in data["episodes"] if r["error"]]
    return WorkerRun(episodes, len(data["episodes"]), errors, victim, time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "sessions", "workers"), default="all")
    parser.add_argument("--episodes", type=int, default=30)
    args = parser.parse_args(argv)
    bad = 0
    if args.part in ("all", "sessions"):
        rows = bench_sessions()
        print("| kill point | killed (-9) | resume rc | on resume | problems | s |\n|---|---|---:|---|---|---:|")
        for r in rows:
            print(f"| {r.point} | {'yes' if r.killed else 'NO'} | {r.resumed_rc} | {r.how} | "
                  f"{'; '.join(r.problems) or 'none'} | {r.seconds:.1f} |")
        bad += sum(bool(r.problems) or not r.killed or r.resumed_rc != 0 for r in rows)
    if args.part in ("all", "workers"):
        run = bench_workers(args.episodes)
        print(f"\n| episodes | report rows | rows with an error | killed worker pid | s |\n|---:|---:|---:|---:|---:|\n"
              f"| {run.episodes} | {run.rows} | {len(run.errors)} | {run.killed_pid} | {run.seconds:.0f} |")
        for e in run.errors:
            print(f"  {e}")
        bad += run.rows != run.episodes or not run.errors
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
