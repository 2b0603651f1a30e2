"""Graph nodes that move and close the instruction: act, put_back, report (verify: ``agent.nodes_verify``).

Before ``act`` sends a motion's first chunk it checks the policy's chain-of-thought TARGET
against its own grounding (``agent.self_check``): on a disagreement nothing moves; it looks
again once, then asks one yes/no question that names both objects, or stops without moving.
``act`` runs the executor in a control loop on the arm (``agent.motion.run_motion``) that polls
the person EVERY control step: anything read as a correction (``agent.interjection``) sends a
hold action (zero deltas, gripper unchanged: the arm stops within that one control step) and
``agent.corrections`` says what changes: "stop" ends; "no, the other one" / "no, the blue one"
route to ``put_back`` (the wrong object goes back where it was) and then back to ``ground`` with
the pick slot changed; "put it in the green bowl instead" re-grounds the place slot for the same
object; "put it back" / "never mind" put it back and end; an unreadable one asks. "wait" holds
the arm until "go on". Every action actually sent (after the arm's safety clipping) is logged.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from langgraph.runtime import Runtime

from common.proprio import Proprio

from perception.types import Candidate, SceneObservation
from policy.types import PolicyOutput

from agent.context import ActTarget, AgentContext, TargetUnreachable
from agent.corrections import STOPPED, apply_correction, hand_of
from agent.dialogue import describe, placement_words
from agent.motion import run_motion
from agent.nodes_decide import by_index, show_question
from agent.nodes_ground import look
from agent.self_check import (
    SelfCheckAction,
    SelfCheckRecord,
    SelfCheckVerdict,
    ask_text,
    check_target,
    image_size,
    name_agrees,
    object_at,
    policy_target,
    reaching_for,
    self_check_disagreements,
    stop_text,
)
from agent.state import AgentState, DialogueTurn, Outcome, PendingQuestion

def act_target(candidate: Candidate, scene: SceneObservation, holding: bool = False) -> ActTarget:
    """Resolve a candidate to perceived objects and an unambiguous instruction for a policy;
    ``holding``: the hand already holds the pick (see ``ActTarget.holding``)."""
    pick = by_index(scene, candidate.pick)
    assert pick is not None, "candidate refers to a perceived object"
    place = by_index(scene, candidate.place) if candidate.place is not None else None
    place2 = by_index(scene, candidate.place2) if candidate.place2 is not None and place is not None else None
    region = candidate.region if candidate.relation == "region" else None
    text = f"pick up {describe(pick, scene.objects, scene.viewpoint)}"
    policy_text = None
    relation = candidate.relation if place is not None or region is not None else None
    if place is not None or region is not None:
        rel = relation or "in"
        put = f"put {describe(pick, scene.objects, scene.viewpoint)}"
        where = placement_words(rel, describe(place, scene.objects, scene.viewpoint) if place else None,
                                describe(place2, scene.objects, scene.viewpoint) if place2 else None, region)
        text = f"{put} {where}"
        policy_text = f"{put} " + placement_words(rel, f"the {place.color} {place.shape}" if place else None,
                                                  f"the {place2.color} {place2.shape}" if place2 else None, region)
    return ActTarget(pick=pick, place=place, relation=relation, instruction=text, viewpoint=scene.viewpoint,
                     policy_instruction=policy_text, place2=place2, region=region, others=tuple(scene.objects),
                     holding=holding)


def act(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Move towards the best candidate of the prediction set until done, stopped or redirected.

    Before anything is sent the motion's first chunk goes through the CoT self-check
    (:func:`_self_check`): when the policy's TARGET disagrees with the grounding nothing moves
    and ``recheck`` routes to a second look or to the question it composed, or the outcome says
    why it stopped.
    """
    ctx = runtime.context
    g, scene = state["grounding"], state["scene"]
    assert g is not None and scene is not None and g.prediction_set, "act needs a decided candidate"
    candidate = max(g.prediction_set, key=lambda c: c.score)
    # Holding it already (a new destination said while it carried it): carry on from the hand.
    holding = state.get("correction", False) and hand_of(ctx.arm.get_observation()).holding
    target = act_target(candidate, scene, holding=holding)
    dialogue = list(state.get("dialogue", []))  # what is said below is appended in place
    update: dict[str, Any] = {"target": candidate, "halt": None, "motion_finished": False, "dialogue": dialogue,
                              "recheck": None}
    try:
        first, held = _self_check(ctx, state, target, scene, dialogue)
    except TargetUnreachable as exc:
        _announce(ctx, target, dialogue)
        return {**update, "outcome": Outcome(status="failed", success=False, acted_on=None,
                                             message=f"I couldn't {target.instruction}: {exc}.")}
    update.update(held)
    if first is None:
        return update  # the policy disagreed: nothing was sent
    _announce(ctx, target, dialogue)

    start = state.get("steps", 0)
    run = run_motion(ctx, target, start, dialogue, first=first)
    update.update(steps=start + run.sent_steps, halt=run.halt.kind if run.halt else None,
                  motion_finished=run.finished, grasped=run.grasped)
    if run.halt is not None:
        # A correction halted the arm: only the slot it names changes (agent.corrections).
        change, said = apply_correction({**state, **update}, run.halt, candidate, hand_of(ctx.arm.get_observation()),
                                        moved=run.sent_steps > 1, grasped=run.grasped)
        if said:
            ctx.say(said)
            ctx.transcript.write("say", said)
            dialogue.append(DialogueTurn(who="robot", text=said))
        update.update(change)
    return update


def _announce(ctx: AgentContext, target: ActTarget, dialogue: list[DialogueTurn]) -> None:
    """'I'll put the red cube in the green bowl.' (the sim id lets a simulated person watch)."""
    text = f"I'll {target.instruction}."
    ctx.say(text)
    ctx.transcript.write("say", text, pick=target.pick.index, sim_id=target.pick.sim_id,
                         place_sim_id=target.place.sim_id if target.place is not None else None)
    dialogue.append(DialogueTurn(who="robot", text=text))


def _first_chunk(ctx: AgentContext, target: ActTarget,
                 dialogue: list[DialogueTurn]) -> tuple[PolicyOutput, Optional[tuple[int, int]]]:
    """Reset the executor for ``target`` and take its first chunk (nothing is sent yet); also the
    frame's (w, h) the policy saw. Raises :class:`TargetUnreachable`."""
    ctx.executor.reset(target)
    obs = ctx.arm.get_observation()
    return ctx.executor.select_action(obs, target.instruction, [t.text for t in dialogue]), image_size(obs)


def _self_check(ctx: AgentContext, state: AgentState, target: ActTarget, scene: SceneObservation,
                dialogue: list[DialogueTurn]) -> tuple[Optional[PolicyOutput], dict[str, Any]]:
    """The policy's first chunk when its TARGET agrees with the grounding, else None; and the
    state keys the check changes. ``dialogue`` gets what the robot said, in place.

    On a disagreement: look again once (re-perceive and re-ground; when the person already
    answered or ruled something out, a new look would renumber what they referred to, so the
    policy is re-queried in place instead); if it still disagrees and the executor is steerable
    (the VLA executor: its reasoning already carries the grounded boxes) it goes on, steered;
    otherwise it asks ONE yes/no question that
    names both objects (rephrased once after an unusable answer); after a usable answer it acts
    only when the policy now agrees, or when only its confidence was low (the person vouched
    for the target); otherwise it stops without moving.
    """
    settings = ctx.settings.self_check
    checks: list[SelfCheckRecord] = list(state.get("self_checks", []))
    first, size = _first_chunk(ctx, target, dialogue)

    def record(verdict: SelfCheckVerdict, action: SelfCheckAction, output: PolicyOutput, text: str = "") -> None:
        checks.append(SelfCheckRecord(verdict=verdict, action=action))
        detail = "agrees" if verdict.agree else f"disagrees ({verdict.reason})"
        iou = "n/a" if verdict.iou is None else f"{verdict.iou:.2f}"
        # A chunk that is not sent never reaches run_motion's reasoning log: its CoT goes here.
        ctx.transcript.write("self_check", f"policy TARGET {verdict.policy_target!r} {detail} with the grounded "
                             f"{verdict.grounded} (IoU {iou}, confidence {verdict.confidence:.2f}): {action}",
                             **checks[-1].model_dump(), pick=target.pick.index, sim_id=target.pick.sim_id,
                             raw_text=None if action in ("passed", "vouched") else output.raw_text)
        if text:
            ctx.say(text)
            ctx.transcript.write("say", text)
            dialogue.append(DialogueTurn(who="robot", text=text))

    if len(first.actions) == 0 or first.scripted:
        # Nothing to send, or a scripted move before the policy runs (an empty hand going home
        # first, as a retry's does): nothing the policy wrote to check.
        return first, {}
    verdict = check_target(first, target.pick, size, settings)
    retries = sum(c.action in ("look_again", "requery") for c in checks)
    asked = any(c.action == "ask" for c in checks)
    answered = asked and state.get("unusable_answers", 0) == 0
    if not verdict.agree and not asked and retries < settings.max_retries:
        # A retry's target is what the robot's own look found again, not the words: a new look
        # would ground the words again on an object perception may now name differently.
        if not (state.get("excluded") or state.get("restrict") or state.get("restrict_place")
                or state.get("restrict_place2") or state.get("retries")):
            record(verdict, "look_again", first, _difference(verdict, first, target, scene, size, settings.min_iou))
            return None, {"self_checks": checks, "recheck": "look_again"}
        record(verdict, "requery", first)
        first, size = _first_chunk(ctx, target, dialogue)
        verdict = check_target(first, target.pick, size, settings)
    if verdict.agree:
        record(verdict, "passed", first)
        return first, {"self_checks": checks}
    if getattr(ctx.executor, "steerable", False):
        # A second look kept the grounding: the person's words were clear and the agent's own
        # grounding overrules the policy's TARGET, already written into the policy's reasoning
        # (ECoT intervention); asking the person would ask about something they already said.
        record(verdict, "steered", first)
        return first, {"self_checks": checks}
    if answered and verdict.reason == "low_confidence":
        record(verdict, "vouched", first)  # name and box agree; the person confirmed the target
        return first, {"self_checks": checks}
    difference = _difference(verdict, first, target, scene, size, settings.min_iou)
    if not answered and state.get("asked", 0) < ctx.settings.max_questions:
        record(verdict, "ask", first)
        return None, {"self_checks": checks, "recheck": "ask",
                      **_question(ctx, state, target, scene, difference, dialogue)}
    message = stop_text(difference)
    record(verdict, "stop", first)
    return None, {"self_checks": checks, "outcome": Outcome(status="refused", success=False, message=message)}


def _difference(verdict: SelfCheckVerdict, output: PolicyOutput, target: ActTarget, scene: SceneObservation,
                size: Optional[tuple[int, int]], min_iou: float) -> str:
    """'My policy is reaching for <what it named>, but I understood <the grounded object>.' The
    object its box covers is described among the others ('the red cube on the left') when the
    policy's name fits it."""
    reasoned = policy_target(output)
    seen = object_at(reasoned.box, scene.objects, size, min_iou) if reasoned is not None else None
    if seen is not None and not name_agrees(reasoned.name, seen):
        seen = None
    policy_phrase = describe(seen, scene.objects, scene.viewpoint) if seen is not None else None
    return reaching_for(verdict, policy_phrase, describe(target.pick, scene.objects, scene.viewpoint))


def _question(ctx: AgentContext, state: AgentState, target: ActTarget, scene: SceneObservation, difference: str,
              dialogue: list[DialogueTurn]) -> dict[str, Any]:
    """The yes/no question about the grounded object, as ``decide`` would put it to ``clarify``."""
    attempt = 2 if state.get("unusable_answers", 0) > 0 else 1
    phrase = describe(target.pick, scene.objects, scene.viewpoint)
    text = ask_text(difference, phrase) if attempt == 1 else \
        f"Should I take {phrase}? Sorry, I didn't get that; please say yes or no."
    number = state.get("asked", 0) + 1
    image = show_question(ctx, [target.pick], text, number)
    question = PendingQuestion(text=text, options=[target.pick.index], yes_no=True, attempt=attempt, image=image)
    ctx.transcript.write("question", text, options=question.options, sim_ids=[target.pick.sim_id], about="pick",
                         image=image, self_check=True)
    dialogue.append(DialogueTurn(who="robot", text=text, kind="question"))
    return {"question": question, "asked": number, "questions": [*state.get("questions", []), text]}


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
    # Cut short before the fingers closed (the last gripper command is open): there is nothing to
    # put back, only to rise clear of it before moving sideways.
    untouched = state.get("halt") is not None and not Proprio.from_array(ctx.arm.get_observation()["state"]).closed
    text = f"I'll move up, away from {name}." if untouched else f"I'll put {name} back where it was."
    ctx.say(text)
    ctx.transcript.write("say", text, pick=obj.index, sim_id=obj.sim_id, return_to=list(obj.position))
    dialogue = [*state.get("dialogue", []), DialogueTurn(who="robot", text=text)]
    start = state.get("steps", 0)
    try:  # the executor may find it cannot before anything moves (at reset or its first chunk)
        ctx.executor.reset(target)
        run = run_motion(ctx, target, start, dialogue, halts=("stop", "cancel"))
    except TargetUnreachable as exc:
        said = f"I couldn't put it back: {exc}."
        ctx.say(said)
        ctx.transcript.write("say", said)
        failed: dict[str, Any] = {"put_back": None, "dialogue": [*dialogue, DialogueTurn(who="robot", text=said)]}
        outcome = state.get("outcome")  # "put it back" / "never mind": its closing words say so
        if outcome is not None:
            failed["outcome"] = outcome.model_copy(update={"message": "I'm sorry, it stays where it is."})
        return failed
    update: dict[str, Any] = {"put_back": None, "steps": start + run.sent_steps, "dialogue": dialogue}
    if run.halt is not None:
        update["outcome"] = Outcome(status="stopped", success=False, acted_on=obj.sim_id, message=STOPPED)
        return update
    missed = None if untouched else not_back(look(ctx).objects, obj, name)
    if missed is not None:  # the look after it: it is not where it stood
        said = f"I couldn't put {name} back where it was: {missed}."
        ctx.say(said)
        ctx.transcript.write("own_check", said, done=False, pick=obj.index)
        update["dialogue"] = [*dialogue, DialogueTurn(who="robot", text=said)]
        update["unreturned"] = f"{name} is not back where it was"
        outcome = state.get("outcome")
        if outcome is not None:
            update["outcome"] = outcome.model_copy(update={"message": said, "success": False})
    return update


#: A put-back is done when an object of its colour stands this close (m) to where it stood: the
#: distance the suites' "nothing else moved" allows.
PUT_BACK_TOLERANCE_M = 0.02


def not_back(seen: Any, obj: Any, name: str) -> Optional[str]:
    """None when the look (``seen`` objects) finds ``obj``'s colour where it stood; else what it
    found instead."""
    where = np.asarray(obj.position[:2], dtype=np.float64)
    alike = [o for o in seen if o.color == obj.color]
    if not alike:
        return f"I can't see {name} any more"
    off = min(float(np.linalg.norm(np.asarray(o.position[:2]) - where)) for o in alike)
    return None if off <= PUT_BACK_TOLERANCE_M else f"it is {100 * off:.0f} cm from where it stood"


def report(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Say how it ended, log the outcome and remember the target for a later correction."""
    ctx = runtime.context
    outcome = state["outcome"]
    assert outcome is not None, "report runs after an outcome was set"
    ctx.say(outcome.message)
    ctx.transcript.write(
        "outcome", outcome.message, **outcome.model_dump(),
        asked=state.get("asked", 0), questions=state.get("questions", []),
        reperceptions=state.get("reperceptions", 0), retries=state.get("retries", 0), steps=state.get("steps", 0),
        self_check_disagreements=self_check_disagreements(state.get("self_checks", [])),
    )
    return {
        "dialogue": [*state.get("dialogue", []), DialogueTurn(who="robot", text=outcome.message)],
        "last_target": state.get("target"),
        "last_instruction": state["instruction"],
    }
