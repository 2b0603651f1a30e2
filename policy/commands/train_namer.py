"""`python main.py train-namer`: train the object namer of a policy checkpoint (``policy/model/object_namer.py``).

The namer's files are written into the checkpoint folder, next to the VLA it serves:
    python main.py train-namer --data data/scenes,data/demos --checkpoint checkpoints/vla

Colours and shapes are read from the data. A random ``--held-out`` share of the episodes is scored,
never trained on. About 6 minutes for 1,500 steps on 2 cores; not resumable (it is short).
"""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="folder(s) of episode_*.parquet from `collect`, comma-separated")
    parser.add_argument("--checkpoint", required=True, help="policy checkpoint folder the namer is added to")
    parser.add_argument("--frame-stride", type=int, default=8,
                        help="keep every n-th row of an episode (first rows always): demos repeat their scene")
    parser.add_argument("--held-out", type=float, default=0.1, help="share of episodes scored, not trained on")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3, help="peak of the one-cycle schedule")
    parser.add_argument("--context", type=float, default=1.6, help="crop side / the box's longer side")
    parser.add_argument("--jitter-shift", type=float, default=0.15,
                        help="training crops' centre shift, std in box sides (the policy's boxes are off)")
    parser.add_argument("--jitter-scale", type=float, default=0.2, help="training crops' log-size std")
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from policy.model.checkpoint import read_config
    from policy.training.dataset import load_demos
    from policy.training.namer_training import NamerSettings, namer_examples, train_namer, vocabulary
    from policy.model.normalize import CheckpointError
    from policy.model.object_namer import NamerConfig, save_namer

    torch.set_num_threads(args.threads)
    try:
        policy_config, _ = read_config(args.checkpoint)
    except CheckpointError as exc:
        raise SystemExit(f"train-namer: {exc}") from exc
    try:
        table = load_demos(args.data)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"train-namer: cannot read episodes from {args.data}: {exc}") from exc
    if not 0.0 <= args.held_out < 1.0:
        raise SystemExit("train-namer: --held-out must be in [0, 1)")
    colours, shapes = vocabulary(table)
    if not colours:
        raise SystemExit(f"train-namer: no listed objects in {args.data}")
    config = NamerConfig(colours=colours, shapes=shapes, image_size=policy_config.image_size, context=args.context)
    examples = namer_examples(table, config, args.frame_stride)
    episodes = np.unique(examples.episode)
    # held-out episodes drawn across all folders (not the last ids: one folder's narrow slice)
    rng = np.random.default_rng(args.seed)
    held = np.isin(examples.episode, rng.permutation(episodes)[: int(round(len(episodes) * args.held_out))])
    train, held_out = examples.subset(~held), examples.subset(held)
    print(f"train-namer: {len(train)} objects to train on, {len(held_out)} held out "
          f"({len(colours)} colours x {len(shapes)} shapes)", flush=True)
    settings = NamerSettings(steps=args.steps, batch_size=args.batch_size, lr=args.lr, eval_every=args.eval_every,
                             seed=args.seed, jitter_shift=args.jitter_shift, jitter_scale=args.jitter_scale)
    namer, metrics = train_namer(config, train, held_out, settings, log=lambda m: print(json.dumps(m), flush=True))
    save_namer(args.checkpoint, namer, meta={"data": args.data, "frame_stride": args.frame_stride,
                                             "steps": args.steps, "jitter_shift": args.jitter_shift,
                                             "jitter_scale": args.jitter_scale, "held_out": metrics})
    print(f"train-namer: saved to {args.checkpoint} (held-out names right: {metrics.get('name_acc', float('nan')):.4f})")
    return 0
