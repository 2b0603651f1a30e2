"""Property-based fuzzing of the product's input readers; prints one table row per target.

    .venv/bin/python -m benchmarks.bench_fuzz                 # 10,000 cases per target
    .venv/bin/python -m benchmarks.bench_fuzz --cases 300 --targets scenario_file

Each target (``benchmarks/fuzz_targets.py``) gets ``--cases`` inputs from hypothesis
(derandomised: the same inputs every run; generation only, no shrinking). A crash is any
exception escaping the entry point; a rejection is the one-line message a person reads.
Columns: cases run, crashes, rejected cases, distinct rejection messages (quoted values and
numbers blanked), seconds. Exit code 1 when anything crashed.
"""

from __future__ import annotations

import argparse
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings

from benchmarks.fuzz_targets import TARGETS, FuzzTarget, message_template


@dataclass
class FuzzStats:
    """What one target did with its cases."""

    target: str
    cases: int = 0
    crashes: int = 0
    rejected: int = 0
    messages: set[str] = field(default_factory=set)
    crash_examples: list[str] = field(default_factory=list)
    seconds: float = 0.0


def fuzz(target: FuzzTarget, cases: int) -> FuzzStats:
    """Feed ``cases`` generated inputs to ``target``; crashes are counted, never raised."""
    stats = FuzzStats(target.name)

    @settings(max_examples=cases, database=None, deadline=None, derandomize=True, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(target.strategy)
    def one(value: Any) -> None:
        stats.cases += 1
        try:
            verdict, messages = target.run(value)
        except Exception as exc:  # noqa: BLE001 - a crash is what we count
            stats.crashes += 1
            if len(stats.crash_examples) < 5:
                where = traceback.extract_tb(exc.__traceback__)[-1]
                stats.crash_examples.append(f"{type(exc).__name__}: {exc} at {where.filename}:{where.lineno} "
                                            f"on {value!r:.200}")
            return
        if verdict == "rejected":
            stats.rejected += 1
            stats.messages.update(message_template(m) for m in messages)

    start = time.perf_counter()
    one()
    stats.seconds = time.perf_counter() - start
    return stats


def format_table(rows: list[FuzzStats]) -> str:
    lines = ["| target | cases | crashes | rejected | distinct messages | s |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r.target} | {r.cases:,} | {r.crashes} | {r.rejected:,} | {len(r.messages)} | {r.seconds:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="inputs per target")
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"comma list of {', '.join(TARGETS)}")
    parser.add_argument("--messages", action="store_true", help="also print every distinct rejection message")
    args = parser.parse_args(argv)
    rows = [fuzz(TARGETS[name], args.cases) for name in args.targets.split(",")]
    print(format_table(rows))
    for r in rows:
        for example in r.crash_examples:
            print(f"crash in {r.target}: {example}")
        if args.messages:
            for m in sorted(r.messages):
                print(f"  {r.target}: {m}")
    return 1 if any(r.crashes for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
