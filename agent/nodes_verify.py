"""The ``verify`` node: look at the table after a motion, and try once more when it missed.

After a motion (finished, or out of control steps) the robot looks again and judges the result
itself (``agent.outcome_check``: perception and proprio only, what a real arm has).
When that look shows the motion missed ("the red cube is 9 cm from the middle of the green bowl")
and it has retries left (``AgentSettings.max_retries``), it says so and tries again on the
objects found again where they now are: the new look becomes the scene, the found objects the
one candidate, and the graph goes back to ``act`` (self-check and announcement included). An
object still in the hand keeps the first look's words and size (a cylinder held up reads as a
ball), and a reference it hides is aimed at where it stood (``outcome_check.aim_again``).

The instruction's outcome, and what the robot says about it, is that own look and nothing else:
the simulator's success check never reaches the agent (the episode runner scores the table
afterwards, and reports how often the two agree: ``verdict_accuracy``). A motion that ran out of
control steps is looked at too, but not retried; nor is an object that ended outside the arm's
workspace (a ball that rolled off the table's reachable part: "..., out of my reach").
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional

from langgraph.runtime import Runtime

from common.proprio import holds_something
from perception.types import Candidate, GroundingResult, PerceivedObject, SceneObservation
from sim.safety import SafetyEnvelope

from agent.context import AgentContext
from agent.nodes_act import act_target
from agent.nodes_ground import look
from agent.outcome_check import OutcomeCheck, aim_again, check_outcome, find_again
from agent.state import AgentState, DialogueTurn, Outcome


def verify(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Judge the motion from a new look; retry it (route back to ``act``) or set the outcome."""
    ctx = runtime.context
    candidate, scene = state["target"], state["scene"]
    assert candidate is not None and scene is not None
    target = act_target(candidate, scene)
    observation = ctx.arm.get_observation()
    holding = holds_something(observation["state"])
    after = look(ctx)
    own = check_outcome(target, scene, after, observation["state"])
    ctx.transcript.write("own_check", own.reason, done=own.done, pick=target.pick.index)
    retries = state.get("retries", 0)
    after, own = aim_again(target, after, own, holding)  # still holding: as the first look saw it
    place2 = _found_again(target.place2, scene, after)
    reachable = own.done or own.pick is None or _within_reach(ctx, own.pick)
    if not reachable:
        own = replace(own, reason=f"{own.reason}, out of my reach")
    if state.get("motion_finished") and not own.done \
            and retries < ctx.settings.max_retries \
            and reachable \
            and own.pick is not None and (target.place is None or own.place in after.objects) \
            and (target.place2 is None or place2 is not None):
        # (A reference hidden from the new look, with nothing in the hand: nothing to aim at.)
        return _retry(ctx, state, candidate, scene, after, own, retries, place2)
    done = target.instruction
    if own.done:
        message = f"Done ({done}, checked by looking)."
    elif not state.get("motion_finished"):
        message = f"I ran out of time trying to {done}: {own.reason}."
    else:
        message = f"I tried to {done}, but {own.reason}."
    unreturned = state.get("unreturned")  # a wrong pick the put-back left elsewhere
    if unreturned and own.done:
        message = f"Done ({done}, checked by looking), but {unreturned}."
    done_all = own.done and not unreturned
    return {"outcome": Outcome(status="success" if done_all else "failed", success=done_all,
                               verified=True, acted_on=target.pick.sim_id, message=message)}


def _within_reach(ctx: AgentContext, obj: PerceivedObject) -> bool:
    """``obj`` stands where the arm may go (its safety envelope's workspace, seen from above):
    a ball that rolled off past it is not retried."""
    envelope = getattr(ctx.arm, "safety", None) or SafetyEnvelope()
    return envelope.contains((float(obj.position[0]), float(obj.position[1]), envelope.workspace_min[2]))


def _found_again(obj: Optional[PerceivedObject], before: SceneObservation,
                 after: SceneObservation) -> Optional[PerceivedObject]:
    """A reference (``between``'s second) in the new look, when it is still seen."""
    found = find_again(obj, before, after) if obj is not None else None
    return found if found is not None and found in after.objects else None


def _retry(ctx: AgentContext, state: AgentState, candidate: Candidate, scene: SceneObservation,
           after: SceneObservation, own: OutcomeCheck, retries: int,
           place2: Optional[PerceivedObject] = None) -> dict[str, Any]:
    """Say what the look showed and aim the next motion at the objects where they now are."""
    assert own.pick is not None
    again = Candidate(pick=own.pick.index, place=own.place.index if own.place is not None else None,
                      relation=candidate.relation, score=1.0,
                      place2=place2.index if place2 is not None else None, region=candidate.region)
    text = f"Hmm, {own.reason}. Let me try again."
    ctx.say(text)
    ctx.transcript.write("say", text, pick=own.pick.index, sim_id=own.pick.sim_id, retry=retries + 1)
    # Objects the person ruled out keep being ruled out in the new look's numbering.
    excluded = []
    for ruled_out in state.get("excluded", []):
        previous = next((o for o in scene.objects if o.index == ruled_out.pick), None)
        found = find_again(previous, scene, after) if previous is not None else None
        if found is not None:
            excluded.append(ruled_out.model_copy(update={"pick": found.index, "place": None}))
    return {
        "retries": retries + 1,
        "scene": after,
        "grounding": GroundingResult(candidates=[again], prediction_set=[again], confidence=1.0),
        "excluded": excluded,
        "restrict": None,
        "restrict_place": None,
        "restrict_place2": None,
        "dialogue": [*state.get("dialogue", []), DialogueTurn(who="robot", text=text)],
    }
