"""Graph nodes that move and close the instruction: act, put_back, verify, report.

``act`` runs the executor in a control loop on the arm (``agent.motion.run_motion``) that polls
the person EVERY control step: "stop" sends a hold action (zero deltas, gripper unchanged: the
arm stops within that one control step) and ends; "no, the other one" holds, excludes the
current target, and routes to ``put_back`` (the wrong object goes back where it was) and then
back to ``ground``. Every action actually sent (after the arm's safety clipping) is logged.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from perception.types import Candidate, SceneObservation

from agent.context import ActTarget, AgentContext, TargetUnreachable
from agent.dialogue import RELATION_WORDS, describe
from agent.motion import run_motion
from agent.nodes_decide import by_index
from agent.state import AgentState, DialogueTurn, Outcome

def act_target(candidate: Candidate, scene: SceneObservation) -> ActTarget:
    """Resolve a candidate to perceived objects and an unambiguous instruction for a policy."""
    pick = by_index(scene, candidate.pick)
    assert pick is not None, "candidate refers to a perceived object"
    place = by_index(scene, candidate.place) if candidate.place is not None else None
    text = f"pick up {describe(pick, scene.objects, scene.viewpoint)}"
    if place is not None:
        relation = RELATION_WORDS.get(candidate.relation or "in", candidate.relation or "in")
        text = f"put {describe(pick, scene.objects, scene.viewpoint)} {relation} {describe(place, scene.objects, scene.viewpoint)}"
    return ActTarget(pick=pick, place=place, relation=candidate.relation if place is not None else None, instruction=text)


def act(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Move towards the best candidate of the prediction set until done, stopped or redirected."""
    ctx = runtime.context
    g, scene = state["grounding"], state["scene"]
    assert g is not None and scene is not None and g.prediction_set, "act needs a decided candidate"
    candidate = max(g.prediction_set, key=lambda c: c.score)
    target = act_target(candidate, scene)
    ctx.say(f"I'll {target.instruction}.")
    ctx.transcript.write("say", f"I'll {target.instruction}.", pick=target.pick.index, sim_id=target.pick.sim_id)
    dialogue = [*state.get("dialogue", []), DialogueTurn(who="robot", text=f"I'll {target.instruction}.")]
    try:
        ctx.executor.reset(target)
    except TargetUnreachable as exc:
        return {"target": candidate, "halt": None, "motion_finished": False, "dialogue": dialogue,
                "outcome": Outcome(status="failed", success=False, acted_on=None,
                                   message=f"I couldn't {target.instruction}: {exc}.")}

    start = state.get("steps", 0)
    run = run_motion(ctx, target, start, dialogue)
    halt, finished, sent_steps = run.halt, run.finished, run.sent_steps
    update: dict[str, Any] = {
        "steps": start + sent_steps,
        "target": candidate,
        "halt": halt,
        "motion_finished": finished,
        "dialogue": dialogue,
    }
    if halt == "stop":
        update["outcome"] = Outcome(status="stopped", success=False, acted_on=target.pick.sim_id,
                                    message="Stopped. I won't move until you tell me what to do.")
    elif halt == "other":
        ctx.say("Sorry, stopping. Let me find the other one.")
        update["excluded"] = [*state.get("excluded", []), candidate]
        update["restrict"] = None
        update["put_back"] = candidate if sent_steps > 1 else None  # it moved: undo first
    return update


def put_back(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Undo a wrong pick before anything else ("no, the other one" mid-grasp or after it).

    The wrong object goes back where it stood when perceived (``state['put_back']`` indexes the
    observation it was chosen in): lift straight up, carry, lower, open, retreat up. If it was
    never grasped the arm only rises, so no sideways motion drags it. Only "stop" interrupts.
    """
    ctx = runtime.context
    candidate, scene = state.get("put_back"), state.get("scene")
    if candidate is None or scene is None:
        return {"put_back": None}
    obj = by_index(scene, candidate.pick)
    if obj is None:
        return {"put_back": None}
    name = describe(obj, scene.objects, scene.viewpoint)
    target = ActTarget(pick=obj, place=None, relation=None, instruction=f"put {name} back where it was",
                       return_to=tuple(obj.position))
    # Cut short before the fingers closed (state[7] = last gripper command, 1 = closed): there is
    # nothing to put back, only to rise clear of it before moving sideways.
    untouched = state.get("halt") == "other" and float(ctx.arm.get_observation()["state"][7]) < 0.5
    text = f"I'll move up, away from {name}." if untouched else f"I'll put {name} back where it was."
    ctx.say(text)
    ctx.transcript.write("say", text, pick=obj.index, sim_id=obj.sim_id, return_to=list(obj.position))
    dialogue = [*state.get("dialogue", []), DialogueTurn(who="robot", text=text)]
    try:
        ctx.executor.reset(target)
    except TargetUnreachable as exc:
        ctx.transcript.write("say", f"I couldn't put it back: {exc}.")
        return {"put_back": None, "dialogue": dialogue}
    start = state.get("steps", 0)
    run = run_motion(ctx, target, start, dialogue, halts=("stop",))
    update: dict[str, Any] = {"put_back": None, "steps": start + run.sent_steps, "dialogue": dialogue}
    if run.halt == "stop":
        update["outcome"] = Outcome(status="stopped", success=False, acted_on=obj.sim_id,
                                    message="Stopped. I won't move until you tell me what to do.")
    return update


def verify(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Check the result: the sim's success check when given, else 'the motion finished'."""
    ctx = runtime.context
    candidate, scene = state["target"], state["scene"]
    assert candidate is not None and scene is not None
    target = act_target(candidate, scene)
    verified = ctx.verify is not None
    success = ctx.verify(target) if ctx.verify is not None else bool(state.get("motion_finished"))
    done = target.instruction
    if success:
        message = f"Done ({done}{', checked' if verified else ''})."
    elif not state.get("motion_finished"):
        message = f"I ran out of time trying to {done}."
    else:
        message = f"I tried to {done}, but it didn't work."
    return {"outcome": Outcome(status="success" if success else "failed", success=bool(success),
                               verified=verified, acted_on=target.pick.sim_id, message=message)}


def report(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Say how it ended, log the outcome and remember the target for a later correction."""
    ctx = runtime.context
    outcome = state["outcome"]
    assert outcome is not None, "report runs after an outcome was set"
    ctx.say(outcome.message)
    ctx.transcript.write(
        "outcome", outcome.message, **outcome.model_dump(),
        asked=state.get("asked", 0), questions=state.get("questions", []),
        reperceptions=state.get("reperceptions", 0), steps=state.get("steps", 0),
    )
    return {
        "dialogue": [*state.get("dialogue", []), DialogueTurn(who="robot", text=outcome.message)],
        "last_target": state.get("target"),
        "last_instruction": state["instruction"],
    }
