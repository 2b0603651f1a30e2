"""The plan's ambiguities asked up front, in one question, before anything moves.

When the plan is made, each step that names its object in words ("the red cube") is grounded
with the calibrated grounder; a step whose prediction set holds several objects is ambiguous.
Instead of stopping in the middle of the plan to ask, the robot asks once, for every ambiguous
step: "Before I start: the red cube: do you mean the red cube on the left or the one on the
right? And the ball: do you mean the big one or the small one?". The answer is split into parts
("the left one, and the small one") and each part is read against each unresolved step's options
(``agent.dialogue.interpret_answer``); a step it settles gets that object (found again in its
own look, like a quantifier's member). A step the answer leaves open is asked about when it
starts, as before. The node interrupts before it says or moves anything (it re-runs on resume).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Optional

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from perception.types import PerceivedObject, SceneObservation

from agent.context import AgentContext
from agent.dialogue import interpret_answer, is_cancel, question_order, which_question
from agent.plan import Plan
from agent.state import AgentState, DialogueTurn, Outcome, PendingQuestion

#: The answer's parts: "the left one, and the small one" / "left one; small one".
_PARTS = re.compile(r"\s*(?:,\s*(?:and\s+)?|;\s*|\band\b|\bthen\b)\s*")


def ambiguous_steps(made: Plan, scene: SceneObservation,
                    prediction_picks: Callable[[str], list[int]]) -> dict[int, list[int]]:
    """Step position -> the object indices it could mean, in question order, for every word step
    whose calibrated prediction set holds more than one object."""
    by_index = {o.index: o for o in scene.objects}
    out: dict[int, list[int]] = {}
    for i, step in enumerate(made.steps):
        if step.pick is not None or step.status != "pending":
            continue
        picks = [p for p in dict.fromkeys(prediction_picks(step.instruction)) if p in by_index]
        if len(picks) > 1:
            out[i] = [o.index for o in question_order([by_index[p] for p in picks], scene.viewpoint)]
    return out


def up_front_question(made: Plan, scene: SceneObservation, ambiguous: dict[int, list[int]]) -> PendingQuestion:
    """One question for every ambiguous step (its options: all of theirs, step by step)."""
    by_index = {o.index: o for o in scene.objects}
    asks = []
    for i, options in ambiguous.items():
        text = which_question([by_index[o] for o in options], scene.viewpoint)
        text = text[0].lower() + text[1:]
        asks.append(text if len(ambiguous) == 1 else f"{made.steps[i].words}: {text}")
    joined = " And ".join(asks) if len(asks) > 1 else asks[0]
    return PendingQuestion(text=f"Before I start: {joined}", options=[o for opts in ambiguous.values() for o in opts],
                           about="pick")


def settle(answer: str, made: Plan, scene: SceneObservation, ambiguous: dict[int, list[int]]) -> tuple[Plan, list[int]]:
    """The plan with each step the answer settles given its object; the steps settled."""
    by_index = {o.index: o for o in scene.objects}
    open_steps = dict(ambiguous)
    settled: list[int] = []
    for part in [p for p in _PARTS.split(answer) if p.strip()]:
        for i, options in list(open_steps.items()):
            objs: list[PerceivedObject] = [by_index[o] for o in options]
            reading = interpret_answer(part, objs, scene.viewpoint)
            if reading.kind == "choose" and len(reading.picks) == 1:
                made = made.with_step(i, pick=by_index[reading.picks[0]])
                settled.append(i)
                del open_steps[i]
                break
    return made, settled


def plan_ask(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Ask the plan's one up-front question and give each step the answer settles its object."""
    question = state["question"]
    assert question is not None, "plan_ask runs after plan composed a question"
    answer = str(interrupt(question.model_dump()))
    ctx = runtime.context
    made: Optional[Plan] = state.get("plan")
    scene = state["scene"]
    assert made is not None and scene is not None
    ambiguous = {int(k): v for k, v in (state.get("plan_ambiguous") or {}).items()}
    heard = DialogueTurn(who="user", text=answer, kind="answer")
    if is_cancel(answer):
        ctx.transcript.write("answer", answer, question=question.text, cancel=True)
        return {"question": None, "plan_ambiguous": None, "asked": 1, "questions": [question.text],
                "dialogue": [*state.get("dialogue", []), heard],
                "outcome": Outcome(status="cancelled", success=False, message="Okay, never mind. I won't move.")}
    made, settled = settle(answer, made, scene, ambiguous)
    ctx.transcript.write("answer", answer, question=question.text, settled_steps=[i + 1 for i in settled])
    from agent.nodes_plan import start_step

    update = start_step(ctx, {**state, "dialogue": [*state.get("dialogue", []), heard]}, made)
    return {**update, "question": None, "plan_ambiguous": None, "asked": 1, "questions": [question.text]}
