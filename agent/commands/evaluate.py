"""`python main.py eval`: closed-loop evaluation of a policy checkpoint in sim, on held-out seeds.

Episode ``i`` uses seed ``2 * i + 1`` (odd: ``collect`` only ever uses even seeds), the same
scene/task sampler as collection, and the canonical instruction (plus the clarifying exchange
when the picked object has a twin). The policy sees only the image, the proprio state and the
words. Reported per task kind: success rate; over all reasoning calls: TARGET accuracy (right
object name and box IoU >= 0.5 with the true projected box) and mean target-box IoU.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np

from common.proprio import Proprio

IOU_CORRECT = 0.5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from agent.commands.collect import DEFAULT_KINDS
    from agent.ray_pool import add_ray_argument
    from policy.inference.rules import RULES

    parser.add_argument("--checkpoint", help="policy checkpoint folder (or --policy-server)")
    parser.add_argument("--policy-server", metavar="WS_URL",
                        help="ask a `main.py serve` policy server (ws://host:port) instead of loading --checkpoint; "
                             "the runtime settings are then the server's")
    parser.add_argument("--api-key", default=os.environ.get("ASKVLA_API_KEY"),
                        help="the policy server's API key (default $ASKVLA_API_KEY)")
    add_ray_argument(parser)
    parser.add_argument("--episodes", type=int, default=30, help="episodes in total, task kinds cycled")
    parser.add_argument("--start", type=int, default=0,
                        help="first episode index (seed 2 * index + 1): a later block of held-out seeds, "
                             "e.g. to check a runtime choice on seeds it was not chosen on")
    parser.add_argument("--report", default=None, help="write the JSON report here")
    parser.add_argument("--kinds", default=DEFAULT_KINDS)
    parser.add_argument("--n-objects", type=int, default=4)
    parser.add_argument("--twin-prob", type=float, default=0.25)
    parser.add_argument("--max-steps", type=int, default=None,
                        help="control steps per episode (default 160); with --loop agent: per motion (default 400)")
    parser.add_argument("--replan-every", type=int, default=4, help="chunks between fresh reasoning")
    parser.add_argument("--execute-steps", type=int, default=None, help="actions executed per chunk (default: all)")
    parser.add_argument("--rules", default="all",
                        help="runtime rules switched on: all (default), none (the network alone) or comma-separated "
                             f"names from {', '.join(RULES)} (policy/inference/rules.py), then edits of a rule's config such as "
                             "release_retreat.rise_m=0.05 or holds.place=in+on. With --steer perception the namer "
                             "and holds' lost boxes stay off, as in the agent's executor. With --loop agent the executor's "
                             "rules (agent/executor_rules.py: steering, staging, step_back, release_ends, free_spot, homing, "
                             "put_back) are named the same way")
    parser.add_argument("--decode", choices=("auto", "dynamic", "static", "compiled"), default="auto",
                        help="KV cache the reasoning is decoded on (RuntimeSettings.decode): compiled runs the "
                             "single-token step through torch.compile on a fixed-size cache (~1.5x faster "
                             "reasoning on CPU after a one-off compile, 3.5x on an H100; docs/RESULTS.md); "
                             "auto = compiled on CUDA, dynamic on CPU")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steer", choices=("none", "perception", "truth"), default="none",
                        help="write TARGET/PLACE boxes into every chain of thought before the actions are read "
                             "(ECoT reasoning intervention). perception: the boxes the agent's own perception "
                             "and grounder pick from the first frame and the same words (what the agent does "
                             "with --policy vla; no sim truth); truth: the true projected boxes (a diagnostic "
                             "of how far the actions follow the reasoning)")
    parser.add_argument("--snap-iou", type=float, default=_snap_default(),
                        help="with --steer perception: replace a steering box by the policy's own listed box "
                             "of the object when they overlap at least this much (IoU; 0 = never, the agent's "
                             "VLA executor's default; 0.3 was the old default)")
    parser.add_argument("--loop", choices=("policy", "agent"), default="policy",
                        help="policy: the network (with its runtime rules) runs the episode and the simulator ends "
                             "it at success; agent: each episode runs as `main.py episodes` runs a scenario "
                             "(agent/commands/eval_agent.py: the langgraph agent grounds, asks, steers the policy, "
                             "judges the result from its own look and retries; the simulator scores only "
                             "afterwards). With agent only --checkpoint, --retries, --segmenter, --max-steps "
                             "(per motion), --workers and --run-dir apply")
    parser.add_argument("--retries", type=int, default=None,
                        help="with --loop agent: motions tried again when the agent's own look says they missed "
                             "(default 1)")
    parser.add_argument("--segmenter", choices=("sim", "depth"), default="sim",
                        help="with --steer perception or --loop agent: how perception finds objects: depth "
                             "(depth + colour, as on a real arm) or sim (the simulator's segmentation mask)")
    parser.add_argument("--workers", type=int, default=1, help="with --loop agent: episodes run in parallel processes")
    parser.add_argument("--run-dir", default=None, help="with --loop agent: the run folder (default runs/<new>)")


def _snap_default() -> float:
    """The agent's VLA executor's snapping IoU, 0 for none (its default: boxes written as measured)."""
    from agent.vla_executor import DEFAULT_SNAP_IOU

    return 0.0 if DEFAULT_SNAP_IOU is None else float(DEFAULT_SNAP_IOU)


def target_check(target: Any, spec: Any, boxes: dict, scene: Any) -> tuple[bool, float]:
    """Whether the TARGET the policy wrote (a ``ReasonedObject``, before any steering edit) names
    the task's object with box IoU >= ``IOU_CORRECT`` against its true box; and the IoU."""
    from policy.model.cot_format import box_iou
    from policy.training.instructions import name

    truth = boxes.get(spec.task.pick)
    if target is None or truth is None:
        return False, 0.0
    iou = box_iou(target.box, truth)
    return target.name == name(scene.get(spec.task.pick)) and iou >= IOU_CORRECT, iou


def perceived_target(env: Any, instruction: str, dialogue: list[tuple[str, str]],
                     depth_segmenter: bool = False, slots: Optional[list[str]] = None) -> tuple[str, Any, Any, Any]:
    """(status, scene, pick, place): what the agent's perception and grounder make of the words
    on the current frame.

    The frame is segmented and described by ``perception.proposals.perceive`` and the words
    grounded by ``perception.grounding.Grounder`` with the clarifying answers folded in (the
    agent's ``ground`` node without the SigLIP check). ``pick``/``place`` are the perceived
    objects when exactly one interpretation is left (status ``"grounded"``), else None with
    ``"ambiguous"`` (the agent would ask again) or ``"nothing"`` (nothing matched). ``slots``
    says which slot each answer of ``dialogue`` settles (``"pick"`` where not given). In sim,
    perception groups pixels by the simulator's segmentation mask unless ``depth_segmenter``
    (the segmenter a real arm uses: depth + colour only); the sim's labels are never used to choose.
    """
    from perception.grounding import Answer, DialogueContext, Grounder
    from perception.depth_segmentation import DepthSegmenter
    from perception.proposals import perceive

    obs = env.arm.get_observation()
    segmenter = DepthSegmenter() if depth_segmenter else None
    scene = perceive(obs, viewpoint="user", labels=env.arm.segmentation_labels, segmenter=segmenter)
    slots = slots if slots is not None else ["pick"] * len(dialogue)
    if len(slots) != len(dialogue):
        raise ValueError(f"{len(dialogue)} answers but {len(slots)} slots")
    context = DialogueContext(answers=[Answer(text=answer, slot=slot) for (_, answer), slot in zip(dialogue, slots)])
    chosen = Grounder().ground(instruction, scene, context).prediction_set
    if len(chosen) != 1:
        return ("ambiguous" if chosen else "nothing"), scene, None, None
    by_index = {o.index: o for o in scene.objects}
    place = by_index.get(chosen[0].place) if chosen[0].place is not None else None
    return "grounded", scene, by_index[chosen[0].pick], place


def perceived_steering(env: Any, instruction: str, dialogue: list[tuple[str, str]],
                       depth_segmenter: bool = False, policy_camera: Any = None,
                       slots: Optional[list[str]] = None) -> dict[str, Any]:
    """:func:`perceived_target` as steering boxes (fractions of the image; ``pick``/``place``,
    None unless grounded) and the scene ids of the chosen objects (for scoring only). The boxes
    are ``agent.vla_executor.steering_box``'s, as the agent's VLA executor steers with."""
    from agent.vla_executor import steering_box

    status, _, pick, place = perceived_target(env, instruction, dialogue, depth_segmenter, slots)
    if status != "grounded":
        return {"status": status, "pick": None, "place": None, "pick_id": None, "place_id": None}
    obs = env.arm.get_observation()
    return {"status": status, "pick": steering_box(pick, obs, policy_camera),
            "place": steering_box(place, obs, policy_camera) if place is not None else None,
            "pick_id": pick.sim_id, "place_id": place.sim_id if place is not None else None}


def chose_right(grounding: dict[str, Any], spec: Any) -> bool:
    """The grounding's chosen scene ids (``pick_id``/``place_id``) are the task's objects (scoring only)."""
    return grounding["pick_id"] == spec.task.pick and (spec.task.place is None or grounding["place_id"] == spec.task.place)


def run_episode(env: Any, runtime: Any, spec: Any, max_steps: int, steer: str = "none",
                snap_iou: Optional[float] = None, depth_segmenter: bool = False) -> dict[str, Any]:
    """One closed-loop episode; returns its record (success, steps, target checks, timing)."""
    from agent.commands.collect import project_boxes
    from policy.training.instructions import TaskWords, eval_exchanges, eval_prompt

    obs, _ = env.reset(seed=spec.seed, options={"scene": spec.scene, "task": spec.task})
    runtime.reset()
    # True boxes in the policy's own box convention: projected with the camera calibration its
    # demos were recorded with, when it has one (else the env's camera).
    box_camera = getattr(runtime.config, "geometry_camera", None) or env.camera
    words = TaskWords(pick=spec.task.pick, place=spec.task.place, relation=spec.task.relation)
    instruction, dialogue = eval_prompt(spec.scene, words)
    grounding = None
    if steer == "truth":
        start = project_boxes(spec.scene, {k: p.position for k, p in env.object_poses().items()}, box_camera)
        runtime.steer(start.get(spec.task.pick), start.get(spec.task.place) if spec.task.place else None)
    elif steer == "perception":
        grounding = perceived_steering(env, instruction, dialogue, depth_segmenter,
                                       getattr(runtime.config, "geometry_camera", None),
                                       [e.slot for e in eval_exchanges(spec.scene, words)])
        if grounding["status"] == "grounded":
            runtime.steer(grounding["pick"], grounding["place"], snap_iou=snap_iou)
        grounding["right"] = chose_right(grounding, spec)
    steps, success, checks, ious, policy_s, reason = 0, False, [], [], 0.0, ""
    calls: list[dict[str, Any]] = []
    start_z = env.object_poses()[spec.task.pick].position[2]
    gated_before = runtime.calls["phase_gated"]
    renamed_before = runtime.calls["renamed"]
    retreats_before = runtime.calls["retreat"]
    first_text = ""
    while steps < max_steps and not success:
        t0 = time.perf_counter()
        chunk = runtime.predict_chunk(obs, instruction, dialogue)
        policy_s += time.perf_counter() - t0
        if getattr(chunk, "gave_up", False):  # a policy server that did not come back (agent/remote_runtime.py)
            break
        if chunk.reasoned:
            ok, iou, call = score_call(env, spec, chunk.written_target, obs, steps, box_camera, start_z)
            checks.append(ok)
            ious.append(iou)
            calls.append(call)
            first_text = first_text or chunk.reasoning_text
        obs, steps, success, truncated, reason = send_chunk(env, chunk.actions[: runtime.execute_steps], obs, steps,
                                                            max_steps, reason)
        if truncated:
            break
    return {
        "episode": spec.index, "seed": spec.seed, "task": spec.task.kind, "instruction": instruction,
        "dialogue": dialogue, "success": success, "steps": steps, "target_checks": checks,
        "target_ious": ious, "target_calls": calls, "policy_s": policy_s, "first_reasoning": first_text,
        "phase_gated": runtime.calls["phase_gated"] - gated_before,
        "renamed": runtime.calls["renamed"] - renamed_before,
        "retreat_chunks": runtime.calls["retreat"] - retreats_before,
        "grounding": grounding,
        "end_reason": reason,  # the success check's last verdict ("object still in the gripper", ...)
        "end_gripper_closed": Proprio.from_array(obs["state"]).closed,
    }


def score_call(env: Any, spec: Any, target: Any, obs: dict[str, Any], steps: int, box_camera: Any,
               start_z: float) -> tuple[bool, float, dict[str, Any]]:
    """One reasoning call's TARGET against the truth (:func:`target_check`), and where the episode
    stood at that call: its step, the gripper, how far the target has been raised since the start
    (sim truth, scoring only; it says which calls miss)."""
    from agent.commands.collect import project_boxes

    positions = {k: p.position for k, p in env.object_poses().items()}
    ok, iou = target_check(target, spec, project_boxes(spec.scene, positions, box_camera), spec.scene)
    return ok, iou, {"step": steps, "gripper_closed": Proprio.from_array(obs["state"]).closed,
                     "target_raised_m": round(float(positions[spec.task.pick][2] - start_z), 3)}


def send_chunk(env: Any, actions: Any, obs: dict[str, Any], steps: int, max_steps: int,
               reason: str) -> tuple[dict[str, Any], int, bool, bool, str]:
    """Step ``actions`` until the task succeeds, the env truncates or ``max_steps`` is reached:
    (last obs, steps so far, success, truncated, the success check's last reason)."""
    for action in actions:
        obs, _, terminated, truncated, info = env.step(action)
        reason = info["success_reason"]
        steps += 1
        if terminated:
            return obs, steps, True, False, reason
        if truncated or steps >= max_steps:
            return obs, steps, False, bool(truncated), reason
    return obs, steps, False, False, reason


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    from agent.commands.eval_stats import wilson_interval

    kinds = sorted({r["task"] for r in records})
    wins = {k: sum(bool(r["success"]) for r in records if r["task"] == k) for k in kinds}
    counts = {k: sum(r["task"] == k for r in records) for k in kinds}
    checks = [c for r in records for c in r["target_checks"]]
    ious = [v for r in records for v in r["target_ious"]]
    steps = sum(r["steps"] for r in records)
    return {
        "episodes": len(records),
        "success_rate": {k: wins[k] / counts[k] for k in kinds},
        "episodes_per_task": counts,
        # Wilson 95 % interval of each rate: 30 episodes a task pin a rate down only to ~+-15 %.
        "success_interval": {k: list(wilson_interval(wins[k], counts[k])) for k in kinds},
        "overall_success_rate": float(np.mean([r["success"] for r in records])) if records else 0.0,
        "target_accuracy": float(np.mean(checks)) if checks else 0.0,
        "target_box_iou": float(np.mean(ious)) if ious else 0.0,
        "reasoning_calls": len(checks),
        "policy_ms_per_action": 1000.0 * sum(r["policy_s"] for r in records) / max(steps, 1),
        **_grounding_summary(records),
    }


def _grounding_summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """With ``--steer perception``: how often the agent's grounding chose one object, and the right one."""
    grounded = [r["grounding"] for r in records if r.get("grounding") is not None]
    if not grounded:
        return {}
    return {"grounding": {
        "episodes": len(grounded),
        "grounded": sum(g["status"] == "grounded" for g in grounded),
        "ambiguous": sum(g["status"] == "ambiguous" for g in grounded),
        "nothing": sum(g["status"] == "nothing" for g in grounded),
        "right": sum(bool(g["right"]) for g in grounded),
    }}


def run(args: argparse.Namespace) -> int:
    import torch
    from tqdm import tqdm

    from agent.commands.collect import sample_episode
    from agent.remote_runtime import RemoteRuntime
    from policy.model.checkpoint import load_checkpoint
    from policy.inference.rules import RuleSet
    from policy.inference.runtime import RuntimeSettings, VLARuntime
    from sim.tabletop_env import TabletopEnv

    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    specs = [sample_episode(i, 2 * i + 1, kinds[i % len(kinds)], args.n_objects, args.twin_prob)
             for i in range(args.start, args.start + args.episodes)]
    if args.loop == "agent":  # the agent's episodes fan out like `episodes` (processes or --ray)
        from agent.commands.eval_agent import run_agent_loop

        return _write(args, run_agent_loop(args, specs))
    if args.ray is not None:  # every episode a Ray task running this command alone (agent/ray_pool.py)
        from agent.ray_pool import fan_out

        return write_report(args, [r for r in fan_out("agent.commands.evaluate", args) if r is not None])
    if args.retries is not None:
        raise SystemExit("eval: --retries is the agent's own retry: add --loop agent")
    torch.set_num_threads(args.threads)
    rules = RuleSet.parse(args.rules)
    if args.steer != "none":
        rules = rules.steered()
    if not args.checkpoint and not args.policy_server:
        raise SystemExit("eval: give --checkpoint DIR or --policy-server ws://host:port")
    policy = None if args.policy_server else load_checkpoint(args.checkpoint)
    remote = RemoteRuntime.connect(args.policy_server, api_key=args.api_key) if policy is None else None
    runtime = remote if remote is not None else VLARuntime(policy, RuntimeSettings(
        replan_every=args.replan_every, execute_steps=args.execute_steps, decode=args.decode, rules=rules))
    if args.max_steps is None:
        args.max_steps = 160
    snap_iou = (args.snap_iou if args.snap_iou > 0 else None) if args.steer == "perception" else None
    image_size = remote.require_config().image_size if remote is not None else policy.config.image_size
    env = TabletopEnv(image_size=image_size, n_objects=args.n_objects, max_episode_steps=args.max_steps)
    records = []
    try:
        bar = tqdm(specs, desc="eval", unit="ep")
        for spec in bar:
            records.append(run_episode(env, runtime, spec, args.max_steps, args.steer, snap_iou,
                                       args.segmenter == "depth"))
            bar.set_postfix(success=float(np.mean([r["success"] for r in records])), refresh=False)
    finally:
        env.close()
    return write_report(args, records)


def write_report(args: argparse.Namespace, records: list[dict[str, Any]]) -> int:
    """Print the summary of ``records`` and write the report to ``args.report`` (when set)."""
    rules = [] if args.policy_server else list(rule_names(args))
    return _write(args, {"checkpoint": str(args.checkpoint), "seeds": "odd (2i+1), never used by collect",
                         **summarize(records), "rules": rules, "settings": vars(args), "per_episode": records})


def _write(args: argparse.Namespace, report: dict[str, Any]) -> int:
    """Print the summary (everything but the rows and settings) and write the report JSON."""
    print(json.dumps({k: v for k, v in report.items() if k not in ("per_episode", "settings")}, indent=1))
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(json.dumps(report, indent=1))
    return 0


def rule_names(args: argparse.Namespace) -> tuple[str, ...]:
    """The runtime rules an eval ran with (``--rules``, steered as ``run`` does)."""
    from policy.inference.rules import RuleSet

    rules = RuleSet.parse(args.rules)
    return (rules.steered() if args.steer != "none" else rules).names
