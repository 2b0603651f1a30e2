"""`main.py eval --steer perception --retries N`: episodes run as the agent runs the policy.

The agent's VLA executor (``agent/vla_executor.py``: steering with the perceived target's boxes,
homing, its own end of a motion: "done", out of steps or standing still) drives the arm. When a
motion ends without the simulator's success, the agent's own check (``agent/outcome_check.py``:
a new look and the proprio state, no sim truth) decides: it looks done, and the episode ends as
the agent would report it; or it looks missed, and up to ``retries`` times the executor is reset
on the objects found again where they now are (the same words) and tries again. The simulator's
success check only scores. Each episode records every check (its verdict and reason), so the
report also says how often the agent's own check agreed with the simulator's.
"""

from __future__ import annotations

import time
from typing import Any, Optional


def run_episode_with_retries(env: Any, executor: Any, spec: Any, max_steps: int, retries: int,
                             depth_segmenter: bool = False) -> dict[str, Any]:
    """One closed-loop episode through ``executor`` (a ``VLAExecutor``); its record."""
    from agent.commands.evaluate import chose_right, perceived_target, score_call, send_chunk
    from agent.context import ActTarget
    from agent.outcome_check import aim_again, check_outcome
    from agent.put_back_motion import holds_something
    from perception.proposals import perceive
    from policy.training.instructions import TaskWords, eval_exchanges, eval_prompt

    obs, _ = env.reset(seed=spec.seed, options={"scene": spec.scene, "task": spec.task})
    runtime = executor.runtime
    box_camera = getattr(runtime.config, "geometry_camera", None) or env.camera
    words = TaskWords(pick=spec.task.pick, place=spec.task.place, relation=spec.task.relation)
    instruction, dialogue = eval_prompt(spec.scene, words)
    flat = [line for pair in dialogue for line in pair]
    status, before, pick, place = perceived_target(env, instruction, dialogue, depth_segmenter,
                                                   [e.slot for e in eval_exchanges(spec.scene, words)])
    relation = spec.task.relation if spec.task.place is not None else None
    grounding = {"status": status, "pick_id": getattr(pick, "sim_id", None),
                 "place_id": getattr(place, "sim_id", None)}
    grounding["right"] = chose_right(grounding, spec)
    # Ambiguous or nothing: the agent would ask again; here the policy runs unsteered, as before.
    target = ActTarget(pick=pick, place=place, relation=relation, instruction=instruction) if pick is not None else None
    executor.reset(target if target is not None else ActTarget(pick=None, place=None, relation=None,  # type: ignore[arg-type]
                                                               instruction=instruction))
    steps, success, checks, ious, policy_s, reason = 0, False, [], [], 0.0, ""
    calls: list[dict[str, Any]] = []
    start_z = env.object_poses()[spec.task.pick].position[2]
    attempts: list[dict[str, Any]] = []
    gated_before = runtime.calls["phase_gated"]
    first_text = ""
    while steps < max_steps and not success:
        reasoned_before = runtime.calls["reason"]
        t0 = time.perf_counter()
        out = executor.select_action(obs, instruction, flat)
        policy_s += time.perf_counter() - t0
        if runtime.calls["reason"] > reasoned_before:  # the policy wrote a new chain of thought
            ok, iou, call = score_call(env, spec, out.target, obs, steps, box_camera, start_z)
            checks.append(ok)
            ious.append(iou)
            calls.append(call)
            first_text = first_text or (out.raw_text or "")
        obs, steps, success, truncated, reason = send_chunk(env, out.actions, obs, steps, max_steps, reason)
        if truncated:
            break
        if success or not executor.done:
            continue
        # The motion is over and the task not done: what does the agent's own look say?
        if target is None:
            break
        look = env.arm.get_observation()  # the step's obs may carry no camera model
        after = perceive(look, viewpoint="user", labels=env.arm.segmentation_labels)
        verdict = check_outcome(target, before, after, look["state"])
        attempts.append({"step": steps, "looks_done": verdict.done, "reason": verdict.reason,
                         "sim_reason": reason, "miss": verdict.miss})
        after, verdict = aim_again(target, after, verdict, holds_something(look["state"]))  # as agent/nodes_verify.py
        if verdict.done or len(attempts) > retries or verdict.pick is None or \
                (target.place is not None and verdict.place not in after.objects):
            break
        target = ActTarget(pick=verdict.pick, place=verdict.place, relation=relation, instruction=instruction)
        before = after
        executor.reset(target)
    if not success:  # the agent has stopped: the table is judged once it settles (as agent/runner.py does)
        success, reason = settled_verdict(env)
    return {
        "episode": spec.index, "seed": spec.seed, "task": spec.task.kind, "instruction": instruction,
        "dialogue": dialogue, "success": success, "steps": steps, "target_checks": checks,
        "target_ious": ious, "target_calls": calls, "policy_s": policy_s, "first_reasoning": first_text,
        "phase_gated": runtime.calls["phase_gated"] - gated_before, "grounding": grounding,
        "end_reason": reason, "end_gripper_closed": bool(float(obs["state"][7]) > 0.5),
        "attempts": attempts, "retried": sum(not a["looks_done"] for a in attempts[:retries]),
    }


def settled_verdict(env: Any, settle_steps: int = 5) -> tuple[bool, str]:
    """The simulator's success check after ``settle_steps`` hold steps (the arm keeps still)."""
    from sim.success import check_success

    for _ in range(settle_steps):
        env.arm.hold()
    report = check_success(env.task, env.scene, env.world_state())
    return report.success, report.reason


def retry_summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """How the agent's own checks went: retries made and won, and its verdicts against the sim's.

    A motion is checked only when the simulator did not already count it a success. "Looks
    done" then ends the episode, judged by the simulator once the table settles: right when that
    counts it a success (the object was still touching a finger, say), wrong otherwise. "Looks
    missed" is right by construction at that moment (the simulator said not yet)."""
    if not any("attempts" in r for r in records):
        return {}
    said_done = [r for r in records if r.get("attempts") and r["attempts"][-1]["looks_done"]]
    retried = [r for r in records if r.get("retried")]
    return {"own_check": {
        "motions_checked": sum(len(r.get("attempts", [])) for r in records),
        "looked_missed": sum(not a["looks_done"] for r in records for a in r.get("attempts", [])),
        "looked_done": len(said_done),
        "looked_done_and_was": sum(r["success"] for r in said_done),
        "episodes_retried": len(retried),
        "retried_and_succeeded": sum(r["success"] for r in retried),
    }}


def make_executor(runtime: Any, snap_iou: Optional[float], max_steps: int) -> Any:
    """The agent's VLA executor over ``runtime`` (the eval's prompt carries the clarifying exchange)."""
    from agent.vla_executor import VLAExecutor

    return VLAExecutor(runtime, max_steps=max_steps, use_dialogue=True, snap_iou=snap_iou)

