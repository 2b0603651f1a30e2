"""A `main.py episodes --suite corrections` report, per correction form and timing: passed
episodes with their Wilson 95 % interval, and the seeds that passed and failed.

    python -m benchmarks.corrections_by_form /tmp/corr_expert.json

The form is what the robot's own reader (``agent.interjection``) makes of the person's first
line in the regenerated scenario (the suite is deterministic per seed); "mid" is said while the
arm moves (control step 8-25), "after" once the motion has finished.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from agent.commands.eval_stats import wilson_interval
from agent.interjection import read_interjection
from agent.suites import LATE_STEP, make_scenario


def form_of(seed: int) -> tuple[str, str]:
    """(form, 'mid' | 'after') of the corrections suite's scenario ``seed``."""
    said = make_scenario("corrections", seed).user.interjections[0]
    reading = read_interjection(said.say)
    return (reading.kind if reading is not None else "none"), ("after" if said.after_step >= LATE_STEP else "mid")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", help="report.json of main.py episodes --suite corrections")
    args = parser.parse_args(argv)
    episodes = json.loads(Path(args.report).read_text())["episodes"]
    rows: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: {"passed": [], "failed": []})
    for episode in episodes:
        name = episode["name"]
        if not name.startswith("corrections-"):
            continue
        seed = int(name.rsplit("-", 1)[1])
        rows[form_of(seed)]["passed" if episode["passed"] else "failed"].append(seed)
    print(f"{'form':12s} {'when':5s} {'passed':>8s}  {'95 % CI':>10s}  seeds failed (passed)")
    total = [0, 0]
    for (form, when), seeds in sorted(rows.items()):
        k, n = len(seeds["passed"]), len(seeds["passed"]) + len(seeds["failed"])
        lo, hi = wilson_interval(k, n)
        total = [total[0] + k, total[1] + n]
        print(f"{form:12s} {when:5s} {k:>4d}/{n:<3d}  {100 * lo:4.0f}-{100 * hi:3.0f} %  {seeds['failed']} ({seeds['passed']})")
    print(f"{'all':18s} {total[0]:>4d}/{total[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
