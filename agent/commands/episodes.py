"""`python main.py episodes PATH... --report out.json` or `--suite NAME --seeds 0-49`.

Runs scenario files/folders (malformed scenarios are reported, the rest still run) or a
procedural suite, shows a progress bar, prints a results table and writes the report JSON
(ARCHITECTURE.md "Episode report"). Exit code 0 when every episode passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from agent.ray_pool import add_ray_argument
    from agent.runner import EXECUTORS, SEGMENTERS, RunConfig
    from agent.suites import SUITES

    defaults = RunConfig()
    parser.add_argument("paths", nargs="*", help="scenario YAML files or folders")
    parser.add_argument("--suite", choices=sorted(SUITES), help="run a procedural suite instead of files")
    parser.add_argument("--seeds", default="0-9", help="suite seeds: a range '0-49', a list '1,3,5' or both")
    parser.add_argument("--report", type=Path, help="write the report JSON here (also saved in the run folder)")
    parser.add_argument("--policy", default=defaults.policy, choices=sorted(EXECUTORS),
                        help="motion source: vla (the learned policy, default) or expert (privileged scripted, sim-only)")
    parser.add_argument("--checkpoint", default=defaults.policy_checkpoint, help="policy checkpoint folder for --policy vla")
    parser.add_argument("--policy-server", metavar="WS_URL",
                        help="ask a `main.py serve` policy server (ws://host:port) instead of loading --checkpoint")
    parser.add_argument("--api-key", default=os.environ.get("ASKVLA_API_KEY"),
                        help="the policy server's API key (default $ASKVLA_API_KEY)")
    parser.add_argument("--rules", default=defaults.rules,
                        help="rules of the vla executor and its runtime: all (default), none (the network alone) or "
                             "comma-separated names (policy/inference/rules.py, agent/executor_rules.py), then edits such as "
                             "homing.home_m=0.08")
    parser.add_argument("--image-size", type=int, default=defaults.image_size, help="camera pixels (square)")
    parser.add_argument("--max-steps", type=int, default=defaults.max_control_steps, help="control steps per motion")
    parser.add_argument("--run-dir", type=Path, help="folder for transcripts/checkpoints (default runs/<timestamp>-<id>, new per run); "
                        "a folder another run already used is refused")
    parser.add_argument("--consistency", default=defaults.consistency,
                        help="SigLIP check: 'auto' (trained checkpoint if present), 'off', or a checkpoint folder")
    parser.add_argument("--calibration", default=defaults.calibration,
                        help="conformal prediction sets: 'auto' (checkpoints/conformal.json if present), 'off', or a JSON file")
    parser.add_argument("--segmenter", default=defaults.segmenter, choices=sorted(SEGMENTERS),
                        help="how perception finds objects: depth (depth + colour, what a real camera gives) or "
                             "sim (the simulator's segmentation mask)")
    parser.add_argument("--retries", type=int, default=defaults.max_retries,
                        help="times a motion is tried again when the robot's own look says it missed")
    parser.add_argument("--workers", type=int, default=1, help="episodes run in parallel processes")
    add_ray_argument(parser)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    from agent.executor_rules import parse_rules
    from agent.report import format_table
    from agent.run_folder import RunDirInUse, claim_run_dir
    from agent.runner import RunConfig, run_all
    from agent.scenario import LoadResult, load_scenarios
    from agent.suites import make_suite, parse_seeds

    parse_rules(args.rules)  # a wrong name is refused before anything runs
    if not args.paths and not args.suite:
        print("give scenario files/folders, or --suite NAME (see --help)")
        return 2
    loaded = load_scenarios(args.paths) if args.paths else LoadResult()
    if args.suite:
        try:
            seeds = parse_seeds(args.seeds)
        except ValueError as exc:
            print(f"--seeds {args.seeds!r}: {exc} (use a range '0-49', a list '1,3,5' or both)")
            return 2
        loaded.scenarios.extend(make_suite(args.suite, seeds))
    for error in loaded.errors:
        print(f"scenario error: {error}")
    config = RunConfig(policy=args.policy, policy_checkpoint=str(args.checkpoint), policy_server=args.policy_server,
                       policy_api_key=args.api_key, rules=args.rules,
                       image_size=args.image_size, max_control_steps=args.max_steps,
                       consistency=args.consistency, calibration=args.calibration, max_retries=args.retries,
                       segmenter=args.segmenter)
    try:
        run_dir = claim_run_dir(args.run_dir)
    except RunDirInUse as exc:
        print(exc)
        return 2
    report = run_all(loaded.scenarios, loaded.errors, config, run_dir, progress=not args.no_progress,
                     workers=args.workers, ray_address=args.ray)
    print(format_table(report))
    if args.report:
        report.write(args.report)
        print(f"report: {args.report}")
    print(f"transcripts: {run_dir / 'transcripts'}")
    return 0 if report.summary.passed == report.summary.episodes else 1
