"""`python main.py demo`: run the bundled scenarios/ without a person at the keyboard.

For each scenario it prints the dialogue (user / robot lines), the agent's decisions with their
scores (grounding confidence, language-vision consistency, prediction-set size, candidate
scores), the chain of thought of each motion (task, plan, target box, moves by control step),
the verified outcome, and at the end the results table. Exit code 0 when all pass.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

#: The bundled scenarios, next to the repository root.
DEFAULT_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
#: Transcript event kinds shown, and how each line is labelled.
SHOWN: dict[str, str] = {"utterance": "user", "answer": "user", "interjection": "user", "question": "robot",
                         "say": "robot", "decision": "  decide", "own_check": "  checks", "outcome": "  outcome"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, help=f"scenario files/folders (default {DEFAULT_SCENARIOS})")
    parser.add_argument("--run-dir", type=Path, help="folder for transcripts/checkpoints (default runs/<timestamp>-<id>, "
                        "new per run); a folder another run already used is refused")
    parser.add_argument("--image-size", type=int, default=96, help="camera pixels (square)")
    parser.add_argument("--voice", action="store_true",
                        help="also run scenarios/voice (the person speaks: piper TTS -> whisper; slower)")


def _decision_line(data: dict[str, Any]) -> str:
    scores = ", ".join(f"#{k}={v:.2f}" for k, v in sorted(data.get("scores", {}).items(), key=lambda kv: -kv[1]))
    consistency = data.get("consistency")
    cons = "n/a" if consistency is None else f"{consistency:.2f}"
    return (f"{data.get('kind')}: {data.get('reason', '')} | confidence {data.get('confidence', 0.0):.2f}, "
            f"consistency {cons}, set size {data.get('set_size', 0)}" + (f", scores {scores}" if scores else ""))


def _thought(data: dict[str, Any]) -> str:
    """The policy's chain of thought in one line: task, plan, target with its box (0..1)."""
    r = data.get("reasoning", {})
    target = r.get("target") or {}
    box = ", ".join(f"{v:.2f}" for v in target.get("box", []))
    return (f"TASK {r.get('task', '')} | PLAN {' > '.join(r.get('plan', []))} | "
            f"TARGET {target.get('name', '-')} [{box}]")


def print_transcript(path: Path) -> None:
    """The dialogue, decisions and chain of thought of one session, from its JSONL transcript.
    Each motion's reasoning is shown once in full, then its moves on one line with their step."""
    from agent.transcript import read_transcript

    moves: list[str] = []
    for event in read_transcript(path):
        if event.kind == "reasoning":
            if not moves:
                print(f"  {'think':>9}: {_thought(event.data)}")
            moves.append(f"{event.data.get('reasoning', {}).get('move', '?')}@{event.data.get('step', '?')}")
            continue
        label = SHOWN.get(event.kind)
        if label is None:
            continue
        if moves:
            print(f"  {'moves':>9}: {' > '.join(moves)}")
            moves = []
        text = _decision_line(event.data) if event.kind == "decision" else event.text
        if event.kind == "interjection" and "step" in event.data:
            text += f"   (said mid-motion, control step {event.data['step']})"
        print(f"  {label:>9}: {text}")


def run(args: argparse.Namespace) -> int:
    from agent.report import format_table
    from agent.run_folder import RunDirInUse, claim_run_dir
    from agent.runner import RunConfig, run_all
    from agent.scenario import load_scenarios

    try:
        run_dir = claim_run_dir(args.run_dir)
    except RunDirInUse as exc:
        print(exc)
        return 2

    if args.paths:
        loaded = load_scenarios(args.paths)
    else:
        loaded = load_scenarios([DEFAULT_SCENARIOS], recursive=False)
        if args.voice:
            loaded.extend(load_scenarios([DEFAULT_SCENARIOS / "voice"]))
    for error in loaded.errors:
        print(f"scenario error: {error}")

    def show(scenario: Any, result: Any) -> None:
        print(f"\n=== {scenario.name}: \"{scenario.instruction}\" ({scenario.scene.viewpoint} viewpoint)")
        if result.transcript and Path(result.transcript).exists():
            print_transcript(Path(result.transcript))
        verdict = "PASS" if result.passed else "FAIL"
        print(f"  -> {verdict}: success={result.success} asked={result.asked} "
              f"reperceptions={result.reperceptions} steps={result.steps} {result.error or result.message}")

    report = run_all(loaded.scenarios, loaded.errors, RunConfig(image_size=args.image_size),
                     run_dir, on_result=show)
    print()
    print(format_table(report))
    return 0 if report.summary.passed == report.summary.episodes else 1
