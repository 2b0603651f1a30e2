"""What the network does alone, and what each runtime rule adds: closed-loop success per task with
Wilson 95 % intervals, every row on the same episodes.

    python -m benchmarks.bench_ablation --start 12000 --episodes 30 --out runs/ablation.jsonl
    python -m benchmarks.bench_ablation --rows leave-one-out --start 12000 --episodes 30 --out ...
    python -m benchmarks.bench_ablation --table runs/ablation.jsonl        # the table of a run so far

Rows (``--rows``): ``cumulative`` is the network alone (``--rules none``), then the rules of
``policy.inference.rules.RULES`` added one at a time in that order, ending with all of them (the runtime's
defaults); ``ends`` is only the first and the last of those (same labels, so its lines join a
cumulative run's); ``leave-one-out`` is all the rules, then all but one for each rule. Episodes are
``main.py eval``'s (index i: seed 2 i + 1, task kinds cycled, 4 objects, unsteered: the policy
alone reads image, state and words). Each finished episode is appended to ``--out`` as one JSON
line, so a run cut short still gives a table over the episodes every row finished; with
``--workers N`` worker k runs the episodes whose index is k modulo N.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
from collections import defaultdict
from pathlib import Path
from typing import Any

KINDS = ("pick", "place_in", "place_on")


def row_specs(kind: str) -> list[tuple[str, str]]:
    """(row label, --rules value) of a row set."""
    from policy.inference.rules import RULES

    names = list(RULES)
    if kind == "cumulative":
        rows = [("none (the network alone)", "none")]
        rows += [(f"+ {name}" if i < len(names) - 1 else f"+ {name} (= all)", ",".join(names[: i + 1]))
                 for i, name in enumerate(names)]
        return rows
    if kind == "ends":
        return [("none (the network alone)", "none"), ("+ namer (= all)", "all")]
    if kind == "leave-one-out":
        return [("all", "all")] + [(f"all - {name}", ",".join(n for n in names if n != name)) for name in names]
    raise ValueError(f"--rows must be cumulative, ends or leave-one-out, got {kind!r}")


def run_worker(worker: int, args: argparse.Namespace) -> None:
    import torch

    from agent.commands.collect import sample_episode
    from agent.commands.evaluate import run_episode
    from policy.model.checkpoint import load_checkpoint
    from policy.inference.rules import RuleSet
    from policy.inference.runtime import RuntimeSettings, VLARuntime
    from sim.tabletop_env import TabletopEnv

    torch.set_num_threads(1)
    policy = load_checkpoint(args.checkpoint)
    rows = row_specs(args.rows)
    done = {(r["row"], r["episode"]) for r in read_records(Path(args.out))}
    env = TabletopEnv(image_size=policy.config.image_size, n_objects=4, max_episode_steps=args.max_steps)
    try:
        for i in range(args.start + worker, args.start + args.episodes, args.workers):
            spec = sample_episode(i, 2 * i + 1, KINDS[i % len(KINDS)], 4, 0.25)
            for label, rules in rows:
                if (label, i) in done:
                    continue
                runtime = VLARuntime(policy, RuntimeSettings(rules=RuleSet.parse(rules)))
                record = run_episode(env, runtime, spec, args.max_steps)
                line = {"row": label, "rules": rules, "episode": i, "seed": spec.seed, "task": spec.task.kind,
                        "success": bool(record["success"]), "steps": record["steps"],
                        "target_checks": record["target_checks"], "policy_s": round(record["policy_s"], 2)}
                with open(args.out, "a") as f:
                    f.write(json.dumps(line) + "\n")
    finally:
        env.close()


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _cell(k: int, n: int) -> str:
    from agent.commands.eval_stats import wilson_interval

    lo, hi = wilson_interval(k, n)
    return f"{k}/{n} [{100 * lo:.0f}-{100 * hi:.0f}]"


def table(records: list[dict[str, Any]]) -> str:
    """Markdown table over the episodes every row finished (rows in the order first seen)."""
    by_row: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for r in records:
        by_row[r["row"]][r["episode"]] = r
    if not by_row:
        return "no finished episodes"
    common = set.intersection(*(set(eps) for eps in by_row.values()))
    lines = [f"episodes every row finished: {len(common)}",
             "| rules | pick | in | on | all | TARGET right |", "|---|---|---|---|---|---|"]
    for row, eps in by_row.items():
        rs = [eps[i] for i in sorted(common)]
        cells = []
        for kind in KINDS:
            of_kind = [r for r in rs if r["task"] == kind]
            cells.append(_cell(sum(r["success"] for r in of_kind), len(of_kind)))
        checks = [c for r in rs for c in r["target_checks"]]
        target = f"{100 * sum(checks) / len(checks):.0f} %" if checks else "-"
        lines.append(f"| {row} | {' | '.join(cells)} | {_cell(sum(r['success'] for r in rs), len(rs))} | {target} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", default="checkpoints/vla")
    parser.add_argument("--rows", default="cumulative", choices=("cumulative", "ends", "leave-one-out"))
    parser.add_argument("--start", type=int, default=12000, help="first eval episode index (test block 12000+)")
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--max-steps", type=int, default=160)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", default="runs/ablation.jsonl", help="JSON lines, appended (a rerun resumes)")
    parser.add_argument("--table", default=None, help="only print the table of these JSON-lines files (comma-separated)")
    parser.add_argument("--ends-only", action="store_true",
                        help="with --table: only the network alone and all rules (joins a cumulative and an ends run)")
    args = parser.parse_args(argv)
    if args.table:
        records = [r for path in args.table.split(",") for r in read_records(Path(path))]
        if args.ends_only:
            labels = {label for label, _ in row_specs("ends")}
            records = [r for r in records if r["row"] in labels]
        print(table(records))
        return 0
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    if args.workers == 1:
        run_worker(0, args)
    else:
        procs = [multiprocessing.Process(target=run_worker, args=(k, args)) for k in range(args.workers)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
    print(table(read_records(Path(args.out))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
