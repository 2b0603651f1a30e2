"""`python main.py train`: train the VLA policy on collected demos (full or --lora), resumable.

Example (the embedded checkpoint):
    python main.py train --preset small --data data/demos,data/scenes --out checkpoints/vla --device cuda --time-limit 270
"""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from policy.model.config import presets
    from policy.training.training import ACTION_LOSSES

    parser.add_argument("--preset", default="tiny", choices=presets())
    parser.add_argument("--data", required=True, help="folder(s) of episode_*.parquet from `collect`, comma-separated")
    parser.add_argument("--out", required=True, help="checkpoint folder (resumed if it holds a run)")
    parser.add_argument("--steps", type=int, default=3000, help="total optimiser steps")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--action-weight", type=float, default=2.0, help="L1 action loss weight vs token loss")
    parser.add_argument("--stale-prob", type=float, default=0.0,
                        help="share of rows conditioned on an earlier step's reasoning (Fast-ECoT reuse)")
    parser.add_argument("--scene-balance", type=float, default=0.0,
                        help="share of sampling spread evenly over episodes (scenes) rather than rows")
    parser.add_argument("--phase-balance", type=float, default=0.0,
                        help="share of sampling spread evenly over motion phases (approach, carry, ...)")
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--save-every", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads; on a shared, oversubscribed CPU 2 threads ran 4-12x slower than 1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lora", action="store_true", help="train LoRA adapters (language model) + head only")
    parser.add_argument("--lora-rank", type=int, default=16)
    parser.add_argument("--lora-vision", action="store_true", help="also put adapters on the SigLIP tower")
    parser.add_argument("--init-from", default=None, help="start from this checkpoint folder")
    parser.add_argument("--device", default="auto", help="auto (cuda when there is one) | cpu | cuda")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    parser.add_argument("--loc-sigma", type=float, default=16.0,
                        help="Gaussian soft target over <loc> bins, std in bins (0 = plain cross-entropy)")
    parser.add_argument("--time-limit", type=float, default=None, help="stop and save after this many seconds")
    parser.add_argument("--stop-at", type=int, default=None,
                        help="stop and save at this step while the learning-rate schedule runs to --steps "
                             "(a run ended part-way down its cosine)")
    parser.add_argument("--target-eval-scenes", type=int, default=32,
                        help="held-out first frames reasoned about at each eval (TARGET accuracy)")
    parser.add_argument("--motion-eval-rows", type=int, default=32,
                        help="held-out rows per motion phase whose chunks are compared with the expert's")
    parser.add_argument("--head-only", action="store_true",
                        help="refit only the action head of --init-from on frozen backbone features (minutes on CPU)")
    parser.add_argument("--head-rows-per-phase", type=int, default=1000,
                        help="with --head-only: demo rows cached per motion phase")
    parser.add_argument("--head-geometry", action="store_true",
                        help="with --head-only: the new head also reads the reasoning's TARGET/PLACE boxes as numbers "
                             "(policy/model/geometry.py)")
    parser.add_argument("--stale-from-start", type=float, default=0.0,
                        help="share of the stale rows fed the episode's first reasoning (the TARGET where the "
                             "object stood when named, as a steered run keeps it)")
    parser.add_argument("--geometry-offsets", action="store_true",
                        help="the geometry head also reads each box's offset from the hand, through the camera "
                             "calibration stored with the demos (DATA/camera.json); implies --head-geometry, "
                             "and for a fresh model head_geometry=true")
    parser.add_argument("--action-loss", default="l1", choices=ACTION_LOSSES,
                        help="loss on the action chunks (policy.training.training.action_loss); l1+mse-xy keeps the carry")
    parser.add_argument("--head-loss", default="l1+mse-xy", choices=ACTION_LOSSES,
                        help="with --head-only: the refit loss")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=JSON",
                        help="override a PolicyConfig field, e.g. --set chunk_size=12")


def run(args: argparse.Namespace) -> int:
    if args.head_only:
        return _run_head_refit(args)
    from tqdm import tqdm

    from policy.training.training import TrainSettings, train

    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = json.loads(value)
    if args.geometry_offsets:
        if args.init_from:
            raise SystemExit("--geometry-offsets changes the head: give it to a fresh model or to --head-only")
        overrides.update(head_geometry=True, geometry_camera=_demo_camera(args.data))
    settings = TrainSettings(
        data=args.data, out=args.out, preset=args.preset, steps=args.steps, batch_size=args.batch_size,
        lr=args.lr, action_weight=args.action_weight, stale_prob=args.stale_prob,
        stale_from_start=args.stale_from_start, scene_balance=args.scene_balance, phase_balance=args.phase_balance,
        eval_every=args.eval_every, save_every=args.save_every, seed=args.seed,
        threads=args.threads, lora=args.lora, lora_rank=args.lora_rank, lora_vision=args.lora_vision,
        init_from=args.init_from, overrides=overrides, device=args.device, workers=args.workers,
        loc_sigma=args.loc_sigma, time_limit=args.time_limit, stop_at=args.stop_at,
        target_eval_scenes=args.target_eval_scenes, motion_eval_rows=args.motion_eval_rows,
        action_loss=args.action_loss,
    )
    bar = tqdm(total=settings.last_step, desc="train", unit="step")

    def progress(record: dict) -> None:
        bar.n = record["step"]
        shown = {k: round(v, 4) for k, v in record.items() if k not in ("step",)}
        bar.set_postfix(shown, refresh=False)
        bar.update(0)
        if "eval_text_loss" in record:
            bar.write(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()}))

    out = train(settings, progress)
    bar.close()
    print(f"checkpoint: {out}")
    return 0


def _run_head_refit(args: argparse.Namespace) -> int:
    from policy.training.head_refit import HeadRefitSettings, run_head_refit

    if not args.init_from:
        raise SystemExit("--head-only refits the head of a trained checkpoint: give --init-from DIR")
    camera = _demo_camera(args.data) if args.geometry_offsets else None
    settings = HeadRefitSettings(rows_per_phase=args.head_rows_per_phase, stale_prob=args.stale_prob,
                                 stale_from_start=args.stale_from_start, seed=args.seed,
                                 loss=args.head_loss, geometry=args.head_geometry, camera=camera)
    record = run_head_refit(args.init_from, args.data, args.out, settings, motion_eval_rows=args.motion_eval_rows,
                            threads=args.threads, progress=lambda msg: print(msg, flush=True))
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()}))
    print(f"checkpoint: {args.out}")
    return 0


def _demo_camera(data: str):
    from policy.training.dataset import load_demo_camera

    try:
        return load_demo_camera(data)
    except (FileNotFoundError, ValueError) as exc:
        raise SystemExit(f"--geometry-offsets: {exc}") from exc
