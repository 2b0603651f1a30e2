"""`main.py eval --loop agent`: the evaluation's episodes run by the whole agent.

Each sampled episode (``agent.commands.collect.sample_episode``: the seeds, scenes and tasks of
``main.py eval``) becomes a scenario: the canonical instruction, and a simulated person whose
intent is the task. It then runs exactly as ``main.py episodes`` runs a scenario
(``agent.runner.run_all``): the langgraph agent perceives, grounds, asks when the words fit two
objects (the person answers), drives the learned policy through its VLA executor, looks at the
result itself, tries again when that look says it missed, and says its verdict. The episode ends
when the agent has finished; only then does the simulator score the person's intent. The
report gives the success per task with Wilson intervals and how often the agent's own verdict
matched the simulator's (``verdict_accuracy`` and its confusion counts).
"""

from __future__ import annotations

import argparse
from typing import Any

from agent.scenario import Scenario


def scenario_of(spec: Any) -> Scenario:
    """The scenario an evaluation episode (``EpisodeSpec``) is run as by the agent: any number
    of questions may be asked (the person answers from the intent)."""
    from policy.training.instructions import TaskWords, eval_prompt

    task = spec.task
    instruction, _ = eval_prompt(spec.scene, TaskWords(pick=task.pick, place=task.place, relation=task.relation))
    intent: dict[str, Any] = {"pick": task.pick, "place": task.place}
    if task.place is not None:
        intent["relation"] = task.relation
    return Scenario.model_validate({
        "name": f"eval-{spec.seed}", "source": f"eval:{spec.index}", "family": task.kind,
        "scene": spec.scene.model_dump(), "instruction": instruction,
        "user": {"intent": intent}, "expect": {"success": True, "ask": {"min": 0}},
    })


def run_agent_loop(args: argparse.Namespace, specs: list[Any]) -> dict[str, Any]:
    """Run ``specs`` through the agent (``args``: checkpoint, retries, segmenter, workers,
    max_steps, report); the eval report."""
    from agent.commands.eval_stats import wilson_interval
    from agent.run_folder import claim_run_dir
    from agent.runner import RunConfig, run_all

    config = RunConfig(policy="vla", policy_checkpoint=str(args.checkpoint), segmenter=args.segmenter,
                       max_retries=1 if args.retries is None else args.retries,
                       max_control_steps=args.max_steps or RunConfig.max_control_steps,
                       rules=getattr(args, "rules", None) or RunConfig.rules)
    run_dir = claim_run_dir(args.run_dir)
    report = run_all([scenario_of(s) for s in specs], [], config, run_dir, progress=True, workers=args.workers,
                     ray_address=getattr(args, "ray", None))
    rows = report.episodes
    kinds = sorted({r.family for r in rows if r.family})
    wins = {k: sum(r.success for r in rows if r.family == k) for k in kinds}
    counts = {k: sum(r.family == k for r in rows) for k in kinds}
    s = report.summary
    return {
        "loop": "agent", "checkpoint": str(args.checkpoint), "run_dir": str(run_dir),
        "episodes": len(rows),
        "success_rate": {k: wins[k] / counts[k] for k in kinds},
        "episodes_per_task": counts,
        "success_interval": {k: list(wilson_interval(wins[k], counts[k])) for k in kinds},
        "overall_success_rate": s.success_rate,
        "verdict_accuracy": s.verdict_accuracy, "verdicts": s.verdicts.model_dump(),
        "asks": s.asks, "retries": s.retries, "errors": s.errors,
        "per_episode": [{"seed": spec.seed, **r.model_dump(mode="json")} for spec, r in zip(specs, rows)],
    }
