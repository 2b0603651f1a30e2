"""The policy's TARGET on the first frame of held-out scenes: how often it is right (Wilson 95 %
interval), with and without a same-named twin, and why the misses missed.

    python -m benchmarks.bench_target --data data/scenes_a,data/scenes_b      # every scene
    python -m benchmarks.bench_target --data data/scenes_b --scenes 300 --json out.json

The scenes are `main.py collect --first-steps 2` folders on seeds the checkpoint never trained
on (docs/RESULTS.md, "TARGET accuracy": the embedded checkpoint on all 1,645 of data/scenes_a
and data/scenes_b).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from agent.commands.eval_stats import wilson_interval


def _rate(k: int, n: int) -> str:
    lo, hi = wilson_interval(k, n)
    return f"{k}/{n} ({100 * k / max(n, 1):.1f} %) [{100 * lo:.1f}-{100 * hi:.1f} %]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="held-out scene folders, comma-separated")
    parser.add_argument("--checkpoint", default="checkpoints/vla")
    parser.add_argument("--scenes", type=int, default=0, help="first-frame scenes to score (0 = all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rename", choices=("every", "off"), default="every",
                        help="the object namer renames and re-boxes the listing (the namer rule, policy/inference/rules.py; on a "
                             "first frame 'every' and 'first' are the same), or 'off': the network alone")
    parser.add_argument("--json", default=None, help="write the per-scene records here")
    args = parser.parse_args(argv)

    import torch

    from policy.model.checkpoint import load_checkpoint
    from policy.training.dataset import load_demos
    from policy.training.reasoning_eval import MISS_KINDS, first_frame_targets

    torch.set_num_threads(args.threads)
    try:
        table = load_demos(args.data)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"bench_target: cannot read scenes from {args.data}: {exc}") from exc
    policy = load_checkpoint(args.checkpoint)
    started = time.perf_counter()
    records = first_frame_targets(policy, table, args.scenes, rename=args.rename)
    seconds = time.perf_counter() - started
    if not records:
        raise SystemExit(f"bench_target: no scene with a TARGET in {args.data}")

    def right(rows: list[dict]) -> int:
        return sum(r["miss"] is None for r in rows)

    twins = [r for r in records if r["twin"]]
    singles = [r for r in records if not r["twin"]]
    namer = "its object namer renaming the listing" if args.rename != "off" and policy.namer else "the network alone"
    print(f"{args.checkpoint} ({namer}) on {args.data}: {len(records)} scenes, "
          f"{1000 * seconds / len(records):.0f} ms a scene")
    print("| scenes | TARGET correct (name right, IoU >= 0.5) [Wilson 95 %] |")
    print("|---|---|")
    print(f"| all | {_rate(right(records), len(records))} |")
    print(f"| the target or place has a same-named twin | {_rate(right(twins), len(twins))} |")
    print(f"| no twin | {_rate(right(singles), len(singles))} |")
    misses = Counter(r["miss"] for r in records if r["miss"] is not None)
    print("misses: " + ", ".join(f"{kind} {misses.get(kind, 0)}" for kind in MISS_KINDS))
    if args.json:
        Path(args.json).write_text(json.dumps({"checkpoint": args.checkpoint, "data": args.data, "rename": args.rename,
                                               "records": records}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
