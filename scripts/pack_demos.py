"""Repack collected episode folders into a few zstd parquet files with lossless WebP frames.

    python scripts/pack_demos.py data/demos,data/scenes --out data/packed [--stride 2] [--max-rows N]

Used to carry a data set to a lent GPU machine (64 MiB per call); the packed folder trains like
any `collect` folder (`python main.py train --data data/packed`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy.training.dataset import pack_episodes  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", help="episode folders, comma-separated")
    parser.add_argument("--out", required=True)
    parser.add_argument("--stride", type=int, default=1, help="keep every k-th step of each episode")
    parser.add_argument("--max-rows", type=int, default=None)
    parser.add_argument("--png", action="store_true", help="keep PNG frames (default: lossless WebP)")
    args = parser.parse_args()
    print(json.dumps(pack_episodes(args.sources, args.out, stride=args.stride, max_rows=args.max_rows,
                                   webp=not args.png)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
