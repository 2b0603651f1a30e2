"""Graph nodes of a multi-step plan: ``plan`` (after ``perceive``) and ``plan_step`` (after ``report``).

``plan`` reads a new request (``agent.plan_parse``); a single-object one passes through
untouched (the graph then runs exactly as without plans). A compound one becomes a
:class:`agent.plan.Plan` made on the look just taken: the robot says it ("I'll do two things:
the red cube, then the blue cube, each into the green bowl."), writes it to the transcript, and
starts its first step: the step's single-object request becomes ``instruction`` and, for an
object the plan chose, ``follow`` finds it again in the look, so ``ground`` / ``decide`` / ``act``
/ ``verify`` / ``report`` run the step as any request (calibrated grounding, questions, the
self-check, the robot's own look and one retry).

``plan_step`` closes the step: done or failed (a step that failed without the retry ``verify``
gives a missed motion is tried once more from a new look), applies the plan corrections heard
meanwhile (``agent.plan_corrections``), and either starts the next step (``plan_step -> perceive
-> plan``: a new look for each) or ends with what was done and what was not. The plan is in the
checkpointed state after every node, so a session killed between steps resumes at the first
step not done; a done step is never run again.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

import numpy as np
from langgraph.graph import END
from langgraph.runtime import Runtime

from agent.context import AgentContext
from agent.plan import Plan, announce, summary, unseen_note
from agent.plan_corrections import PlanListener, apply_plan_correction, read_plan_correction
from agent.plan_parse import expand, parse_compound
from agent.plan_questions import ambiguous_steps, up_front_question
from agent.put_back_motion import PutBackMotion, holds_something
from agent.state import AgentState, DialogueTurn, Outcome, TrackedObject

#: Per-step bookkeeping reset when a step starts (``asked``/``questions``/``steps`` are reset too,
#: their totals kept in the plan; ``steps`` keeps counting so control steps stay numbered once).
STEP_RESET: dict[str, Any] = {
    "correction": False, "excluded": [], "restrict": None, "restrict_place": None, "question": None,
    "target": None, "decision": None, "grounding": None, "consistency_note": None, "outcome": None,
    "put_back": None, "halt": None, "motion_finished": False, "unusable_answers": 0, "reperceptions": 0,
    "near_miss_asked": False, "self_checks": [], "recheck": None, "retries": 0, "grasped": False,
    "relook": False, "follow": None,
}
#: Metres from the plan's home pose within which the hand needs no homing between steps.
HOME_M = 0.05
#: Outcomes that end the whole plan, not just the step ("stop", "never mind", a cut motion).
ENDS_PLAN = ("stopped", "cancelled")
#: Outcomes of a step that are worth one more try from a new look (a motion that did not make it).
RETRYABLE = ("failed",)


def plan(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Make the plan of a compound request, or start the plan's next step (see the module doc)."""
    ctx = runtime.context
    current: Optional[Plan] = state.get("plan")
    if current is not None and state.get("plan_next"):
        return start_step(ctx, state, current)
    if current is not None or state.get("correction"):
        return {}  # a look inside a step (after a correction): nothing to plan
    request = parse_compound(state["instruction"])
    if request is None:
        if isinstance(ctx.interjections, PlanListener):  # no plan now: every word goes to the motion
            ctx.interjections = ctx.interjections.inner  # type: ignore[assignment]
        return {}
    scene = state["scene"]
    assert scene is not None, "plan runs after perceive"
    made = expand(request, scene, lambda words: _clear_pick(ctx, words, scene))
    home = ctx.arm.get_observation()["state"][:3]
    made = made.model_copy(update={"home": tuple(float(v) for v in home)})
    unseen = [s.words for s in made.steps if s.pick is None and not _prediction_picks(ctx, s.words, scene)]
    if unseen:  # the plan is said from words; it does not claim to see what it does not
        made = made.model_copy(update={"notes": [*made.notes, unseen_note(unseen)]})
    text = announce(made)
    ctx.transcript.write("plan", text, request=made.request, ordered=made.ordered,
                         steps=[s.model_dump(mode="json", exclude={"pick"}) | {"pick_index": s.pick.index if s.pick else None}
                                for s in made.steps], notes=made.notes)
    ctx.say(text)
    dialogue = [*state.get("dialogue", []), DialogueTurn(who="robot", text=text)]
    if not made.steps:
        return {"plan": made, "dialogue": dialogue,
                "outcome": Outcome(status="refused", success=False, message="So there is nothing for me to do.")}
    if all(not s.placement for s in made.steps) and len(made.steps) > 1:
        return {"plan": made, "dialogue": dialogue, "outcome": Outcome(
            status="refused", success=False,
            message="I can hold only one thing at a time. Tell me where to put them, and I'll move them one by one.")}
    ambiguous = ambiguous_steps(made, scene, lambda words: _prediction_picks(ctx, words, scene))
    if ambiguous:  # asked once, up front, before anything moves (agent.plan_questions)
        question = up_front_question(made, scene, ambiguous)
        ctx.say(question.text)
        ctx.transcript.write("question", question.text, options=question.options, plan_steps=[i + 1 for i in ambiguous])
        return {"plan": made, "question": question, "plan_ambiguous": {str(k): v for k, v in ambiguous.items()},
                "dialogue": [*dialogue, DialogueTurn(who="robot", text=question.text, kind="question")]}
    return start_step(ctx, {**state, "dialogue": dialogue}, made)  # type: ignore[arg-type]


def _prediction_picks(ctx: AgentContext, words: str, scene: Any) -> list[int]:
    """The objects a phrase may name: the picks of the calibrated prediction set, best first."""
    raw = ctx.grounder.ground(words, scene)
    result = ctx.calibration.apply(raw) if ctx.calibration is not None else raw
    return [c.pick for c in sorted(result.prediction_set, key=lambda c: -c.score)]


def _clear_pick(ctx: AgentContext, words: str, scene: Any) -> Optional[int]:
    """The object a phrase names when the calibrated grounding is sure of it (one pick in the
    prediction set), else None."""
    picks = set(_prediction_picks(ctx, words, scene))
    return picks.pop() if len(picks) == 1 else None


def start_step(ctx: AgentContext, state: AgentState, made: Plan) -> dict[str, Any]:
    """Start the plan's next pending step: its request becomes the instruction."""
    index = made.next_pending()
    assert index is not None, "a plan starts a step only when one is pending"
    step = made.steps[index]
    made = made.with_step(index, status="running", attempts=step.attempts + 1).model_copy(update={"current": index})
    if not isinstance(ctx.interjections, PlanListener):
        ctx.interjections = PlanListener(ctx.interjections, ctx.transcript)
    ctx.transcript.write("plan_step", step.instruction, step=index + 1, of=len(made.steps), attempt=step.attempts + 1)
    update: dict[str, Any] = {**STEP_RESET, "plan": made, "plan_next": False, "instruction": step.instruction,
                              "asked": 0, "questions": [], "dialogue": state.get("dialogue", [])}
    if step.pick is not None:
        update["follow"] = TrackedObject(obj=step.pick, before=made.seen, xy=tuple(step.pick.position[:2]))
    return update


def route_plan(state: AgentState) -> Literal["ground", "report", "plan_ask"]:
    """A plan with nothing to do (or only pick-ups) is answered at once; one with ambiguous steps
    asks about them first."""
    if state.get("outcome") is not None:
        return "report"
    return "plan_ask" if state.get("plan_ambiguous") else "ground"


def route_report(state: AgentState) -> Literal["plan_step", "__end__"]:
    """A step of a running plan goes to ``plan_step``; the rest (and a stop) end the run."""
    made: Optional[Plan] = state.get("plan")
    outcome = state.get("outcome")
    running = made is not None and made.current is not None and made.steps[made.current].status == "running"
    if not running or outcome is None or outcome.status in ENDS_PLAN:
        return END
    return "plan_step"


def plan_step(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Close the running step, apply the plan corrections heard, start the next step or end."""
    ctx = runtime.context
    made: Optional[Plan] = state.get("plan")
    outcome = state.get("outcome")
    assert made is not None and made.current is not None and outcome is not None
    index = made.current
    step = made.steps[index]
    dialogue = list(state.get("dialogue", []))
    made = made.model_copy(update={
        "reperceptions": made.reperceptions + state.get("reperceptions", 0),
        "retries": made.retries + state.get("retries", 0),
        "self_checks": [*made.self_checks, *state.get("self_checks", [])],
        "asked": made.asked + state.get("asked", 0),
        "questions": [*made.questions, *state.get("questions", [])],
    })
    again = (not outcome.success and outcome.status in RETRYABLE and step.attempts < 2
             and state.get("retries", 0) == 0 and not made.stop_after)
    made = made.with_step(index, status="pending" if again else ("done" if outcome.success else "failed"),
                          acted_on=outcome.acted_on, message=outcome.message)
    if again:
        said = f"Let me try {step.words} once more."
        ctx.say(said)
        ctx.transcript.write("say", said, plan_retry=index + 1)
        dialogue.append(DialogueTurn(who="robot", text=said))
        steps = list(made.steps)
        steps.insert(made.next_pending() or index, steps.pop(index))  # the retry comes next
        made = made.model_copy(update={"steps": steps})
    listener = ctx.interjections if isinstance(ctx.interjections, PlanListener) else None
    for heard in (listener.take() if listener is not None else []):
        made, reply = apply_plan_correction(made, heard)
        ctx.say(reply)
        ctx.transcript.write("say", reply, plan_correction=heard.kind)
        dialogue += [DialogueTurn(who="user", text=heard.text, kind="interjection"), DialogueTurn(who="robot", text=reply)]
    if made.next_pending() is not None and not made.stop_after:
        sent = _clear_the_view(ctx, made, state.get("steps", 0))
        return {"plan": made, "plan_next": True, "dialogue": dialogue, "steps": state.get("steps", 0) + sent}
    return _finish(ctx, state, made, dialogue)


#: Most control steps the arm takes to go home between two steps.
HOMING_STEPS = 200


def _clear_the_view(ctx: AgentContext, made: Plan, start: int) -> int:
    """Between two steps the empty hand rises and goes back to where it stood when the plan was
    made (proprio only, ``agent.vla_executor.homing_motion``), so the next look sees the table,
    not the arm over it. Returns the control steps sent (each logged as an ``action``); a re-run
    after a kill starts from wherever the hand is, so it never goes anywhere twice."""
    state = np.asarray(ctx.arm.get_observation()["state"])
    if made.home is None or holds_something(state) or float(np.linalg.norm(state[:3] - np.asarray(made.home))) <= HOME_M:
        return 0
    # A put-back to where the hand is, holding nothing, is exactly: open, rise, go home.
    motion = PutBackMotion(tuple(float(v) for v in state[:3]), home=np.asarray(made.home))
    sent = 0
    while not motion.done and sent < HOMING_STEPS:
        for action in motion.next_actions(np.asarray(ctx.arm.get_observation()["state"])):
            out = ctx.arm.send_action(action)
            ctx.transcript.write("action", "home", step=start + sent, sent=out)
            sent += 1
    return sent


def _finish(ctx: AgentContext, state: AgentState, made: Plan, dialogue: list[DialogueTurn]) -> dict[str, Any]:
    """End the plan: say what was done and what was not; the outcome covers every step."""
    done = [s for s in made.steps if s.status == "done"]
    skipped = [s for s in made.steps if s.status == "skipped"]
    ok = bool(done) and len(done) + len(skipped) == len(made.steps)
    text = summary(made)
    acted = next((s.acted_on for s in reversed(made.steps) if s.acted_on is not None), None)
    outcome = Outcome(status="success" if ok else "failed", success=ok, verified=state["outcome"].verified,  # type: ignore[union-attr]
                      acted_on=acted, message=text)
    ctx.say(text)
    ctx.transcript.write("outcome", text, **outcome.model_dump(), asked=made.asked, questions=made.questions,
                         reperceptions=made.reperceptions, retries=made.retries, steps=state.get("steps", 0),
                         plan=[{"step": s.words, "status": s.status} for s in made.steps])
    return {"plan": made.model_copy(update={"current": None}), "plan_next": False, "outcome": outcome,
            "dialogue": [*dialogue, DialogueTurn(who="robot", text=text)], "asked": made.asked,
            "questions": made.questions, "reperceptions": made.reperceptions, "retries": made.retries,
            "self_checks": made.self_checks}


def plan_follow_up(state: AgentState, said: str) -> Optional[dict[str, Any]]:
    """A plan correction said once the last plan has ended ("also the green one", "no, all of
    them", "skip the blue one"): the changes to ``listen``'s update, or None when ``said`` is
    not one (or there was no plan). New steps run as the same plan, from a new look."""
    made: Optional[Plan] = state.get("plan")
    heard = read_plan_correction(said) if made is not None else None
    if made is None or heard is None:
        return None
    if heard.kind not in ("add", "all"):
        return {"plan": made, "outcome": Outcome(status="idle", success=False,
                                                 message="That plan is over already; tell me what to do next.")}
    changed, reply = apply_plan_correction(made.model_copy(update={"stop_after": False}), heard)
    if changed.next_pending() is None:
        return {"plan": changed, "outcome": Outcome(status="idle", success=False, message=reply)}
    return {"plan": changed, "plan_next": True, "reply": reply}


def route_plan_step(state: AgentState) -> Literal["perceive", "__end__"]:
    """The next step starts from a new look; a finished plan ends the run."""
    return "perceive" if state.get("plan_next") else END
