"""Two `main.py eval` reports on the same seeds, side by side: per task the counts with their
Wilson 95 % intervals, the episodes only one of them won, and McNemar's exact p-value.

    python -m benchmarks.compare_evals runs/base.json runs/variant.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent.commands.eval_stats import mcnemar_exact_p, paired_tasks, wilson_interval


def _load(path: str) -> list[dict]:
    try:
        report = json.loads(Path(path).read_text())
        return list(report["per_episode"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SystemExit(f"compare_evals: {path} is not a main.py eval report with per_episode: {exc}") from exc


def _rate(k: int, n: int) -> str:
    lo, hi = wilson_interval(k, n)
    return f"{k}/{n} [{100 * lo:.0f}-{100 * hi:.0f} %]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", help="the baseline's eval report (JSON)")
    parser.add_argument("b", help="the variant's eval report, same seeds")
    args = parser.parse_args(argv)
    try:
        tasks = paired_tasks(_load(args.a), _load(args.b))
    except ValueError as exc:
        raise SystemExit(f"compare_evals: {exc}") from exc
    print(f"{'task':10} {'A':>20} {'B':>20}  only A  only B  McNemar p")
    for t in tasks:
        print(f"{t.task:10} {_rate(t.wins_a, t.episodes):>20} {_rate(t.wins_b, t.episodes):>20}"
              f"  {len(t.only_a):6d}  {len(t.only_b):6d}  {t.p_value:9.3f}")
    only_a = sum(len(t.only_a) for t in tasks)
    only_b = sum(len(t.only_b) for t in tasks)
    n = sum(t.episodes for t in tasks)
    print(f"{'all':10} {_rate(sum(t.wins_a for t in tasks), n):>20} {_rate(sum(t.wins_b for t in tasks), n):>20}"
          f"  {only_a:6d}  {only_b:6d}  {mcnemar_exact_p(only_a, only_b):9.3f}")
    for t in tasks:
        if t.only_a or t.only_b:
            print(f"  {t.task}: only A won seeds {t.only_a}; only B won seeds {t.only_b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
