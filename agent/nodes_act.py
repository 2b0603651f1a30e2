"""Graph nodes that move and close the instruction: act, verify, report.

``act`` runs the executor in a control loop on the arm and polls the person EVERY control step:
"stop" sends a hold action (zero deltas, gripper unchanged: the arm stops within that one
control step) and ends; "no, the other one" holds, excludes the current target and routes
back to ``ground``. Every action actually sent (after the arm's safety clipping) is logged.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Optional

import numpy as np
from langgraph.runtime import Runtime

from perception.types import Candidate, SceneObservation
from sim.arm import ACTION_DIM

from agent.context import ActTarget, AgentContext, TargetUnreachable
from agent.dialogue import RELATION_WORDS, classify_interjection, describe
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
    queue: deque[np.ndarray] = deque()
    # Gripper command a hold keeps (0 open .. 1 closed): the last one sent; before any, what the
    # fingers show (state[7] is the opening, 1 = wide open), so a stop never drops what is held.
    grip = 0.0 if float(ctx.arm.get_observation()["state"][7]) > 0.95 else 1.0
    halt: Optional[str] = None
    finished = False
    last_reasoning = None
    sent_steps = 0
    while sent_steps < ctx.settings.max_control_steps:
        said = ctx.interjections.poll(start + sent_steps)
        if said:
            kind = classify_interjection(said)
            ctx.transcript.write("interjection", said, step=start + sent_steps, kind=kind)
            dialogue.append(DialogueTurn(who="user", text=said, kind="interjection"))
            if kind is not None:
                hold = np.zeros(ACTION_DIM, dtype=np.float32)
                hold[6] = grip
                sent = ctx.arm.send_action(hold)
                ctx.transcript.write("action", "hold", step=start + sent_steps, sent=sent)
                sent_steps += 1
                halt = kind
                break
        if not queue:
            if ctx.executor.done:
                finished = True
                break
            out = ctx.executor.select_action(ctx.arm.get_observation(), target.instruction, [t.text for t in dialogue])
            if (out.raw_text, out.reasoning) != last_reasoning:
                last_reasoning = (out.raw_text, out.reasoning)
                ctx.transcript.write("reasoning", out.raw_text, reasoning=out.reasoning, step=start + sent_steps)
            if len(out.actions) == 0:
                finished = True
                break
            queue.extend(np.asarray(out.actions, dtype=np.float32).reshape(-1, ACTION_DIM))
        sent = ctx.arm.send_action(queue.popleft())
        grip = float(sent[6])
        ctx.transcript.write("action", step=start + sent_steps, sent=sent)
        sent_steps += 1
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
