"""What a correction changes in the agent's state, mid-motion or right after a motion.

``act`` (a correction that halted the arm), ``clarify`` (the answer to "what should I do
instead?") and ``listen`` (a correction said once the motion was over) all call
:func:`apply_correction` with the reading (``agent.interjection``) and what the robot was doing:
the candidate it was acting on, in the observation it grounded in, and what the arm's own
proprio says of the hand. Only the named slot changes:

- a new referent re-grounds the pick slot from the correction's words, the rest of the request
  (place, relation, which bowl the person chose) kept; what was taken goes back first;
- "the other one" rules the current pick out (the earlier behaviour);
- a new destination keeps the pick (the same object: its index when the last look still shows
  it where it is; else, set down elsewhere, found again in a new look near where the hand let
  go) and grounds the place slot and relation from the correction's words;
- "put it back" / "never mind" return what was taken and end; "stop" holds still and ends;
- a correction it cannot read asks an open question rather than guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from common.proprio import Proprio
from perception.referring import ReferringParser
from perception.types import Candidate, PerceivedObject, SceneObservation

from agent.dialogue import RELATION_WORDS
from agent.interjection import InterjectionReading, read_interjection
from agent.outcome_check import find_again
from agent.state import AgentState, DialogueTurn, Outcome, PendingQuestion, TrackedObject

IDLE = "Okay, I'm not doing anything right now."
STOPPED = "Stopped. I won't move until you tell me what to do."
ASK_WHAT = "Sorry, I stopped. What should I do instead?"
ASK_AGAIN = ("Sorry, I didn't get that. Should I take another object, put it somewhere else, "
             "go on as before, or stop?")

_PARSER = ReferringParser()


@dataclass(frozen=True)
class Hand:
    """What the arm's proprio says of the hand (no simulator truth)."""

    holding: bool  # closed on something (fingers held apart)
    xy: tuple[float, float]  # grasp point, metres, base frame


def hand_of(observation: dict[str, Any]) -> Hand:
    hand = Proprio.from_array(observation["state"])
    return Hand(holding=hand.holding, xy=(hand.x, hand.y))


def _by_index(scene: SceneObservation, index: Optional[int]) -> Optional[PerceivedObject]:
    # As nodes_decide.by_index (nodes_decide imports this module, so it is not imported here).
    return next((o for o in scene.objects if o.index == index), None)


def apply_correction(state: AgentState, reading: InterjectionReading, candidate: Optional[Candidate],
                     hand: Hand, moved: bool, grasped: bool) -> tuple[dict[str, Any], str]:
    """The state update for ``reading`` and what the robot says first ("" for nothing).

    ``candidate``: what it was acting on (or last acted on), indexing ``state['scene']``;
    ``moved``: the arm moved towards it; ``grasped``: the hand closed on the way (with the hand
    now open, the object stands somewhere the last look did not see it).
    """
    scene = state.get("scene")
    instruction = state.get("instruction") or ""
    back = candidate if moved else None
    kind = reading.kind
    if kind == "stop":
        return {"outcome": Outcome(status="stopped", success=False, acted_on=_sim_id(scene, candidate),
                                   message=STOPPED)}, ""
    if kind in ("cancel", "undo"):
        if candidate is None or not moved:
            return {"outcome": Outcome(status="idle", success=False, message=(
                "Okay. I hadn't moved anything, so there is nothing to put back." if kind == "undo" else IDLE))}, ""
        message = "Okay, it's back where it was." if kind == "undo" else "Okay, I won't do that."
        return {"put_back": back, "outcome": Outcome(status="cancelled", success=False, acted_on=None,
                                                     message=message)}, ""
    if kind == "unclear":
        question = PendingQuestion(text=ASK_WHAT, options=[], about="correction")
        return {"question": question, "recheck": "ask", "asked": state.get("asked", 0) + 1,
                "questions": [*state.get("questions", []), ASK_WHAT],
                "dialogue": [*state.get("dialogue", []), DialogueTurn(who="robot", text=ASK_WHAT, kind="question")]}, ""
    if kind in ("pause", "resume") or candidate is None or scene is None:
        return {"outcome": Outcome(status="idle", success=False, message=IDLE)}, ""
    if kind == "other":
        return {"excluded": [*state.get("excluded", []), candidate], "restrict": None, "put_back": back,
                "correction": True}, "Sorry. Let me find the other one."
    if kind == "referent":
        words = _filled(reading.words, scene, candidate)
        return {"instruction": with_pick(instruction, words), "restrict": None, "put_back": back,
                "correction": True}, f"Sorry. {words[:1].upper()}{words[1:]}, then."
    # A new destination for the same object.
    place_shape = getattr(_by_index(scene, candidate.place), "shape", "bowl")
    words = _fill_one(reading.words, place_shape)
    relation = _relation(reading.relation, candidate.relation, words)
    update: dict[str, Any] = {"instruction": with_place(instruction, words, relation), "restrict_place": None,
                              "correction": True, "put_back": None}
    obj = _by_index(scene, candidate.pick)
    if grasped and not hand.holding and obj is not None:
        # It let go of it somewhere: find it again in a new look, near where the hand opened.
        update.update(relook=True, restrict=None, follow=TrackedObject(obj=obj, before=scene, xy=hand.xy))
    else:
        update["restrict"] = [candidate.pick]
    return update, f"Okay, {RELATION_WORDS.get(relation, relation)} {words} instead."


def resume_previous(state: AgentState) -> Optional[dict[str, Any]]:
    """'Go on' after a motion that was stopped: the same request on the same object and place
    (in the last look); None when nothing was left unfinished."""
    previous, last = state.get("outcome"), state.get("last_target")
    if previous is None or previous.status != "stopped" or last is None or not state.get("last_instruction"):
        return None
    return {"instruction": state["last_instruction"], "correction": True, "restrict": [last.pick],
            "restrict_place": [last.place] if last.place is not None else None}


def with_pick(instruction: str, words: str) -> str:
    """``instruction`` with its pick phrase replaced by ``words``, place and relation kept."""
    parsed = _PARSER.parse_instruction(instruction)
    if parsed.action == "place" and parsed.place is not None and parsed.relation:
        return f"put {words} {RELATION_WORDS.get(parsed.relation, parsed.relation)} {parsed.place.text}"
    return f"pick up {words}"


def with_place(instruction: str, words: str, relation: str) -> str:
    """``instruction`` with its place phrase and relation replaced, the pick phrase kept."""
    pick = _PARSER.parse_instruction(instruction).pick.text or "it"
    return f"put {pick} {RELATION_WORDS.get(relation, relation)} {words}"


def found_again(scene: SceneObservation, tracked: TrackedObject) -> Optional[int]:
    """Index of ``tracked`` in the new look ``scene`` (None: not found)."""
    obj = find_again(tracked.obj, tracked.before, scene, near_xy=np.asarray(tracked.xy))
    return obj.index if obj is not None else None


def _relation(said: Optional[str], previous: Optional[str], words: str) -> str:
    """The relation said, else the request's when it still fits the new place: things go IN
    bowls and ON anything else."""
    if said is not None:
        return said
    bowl = _PARSER.parse_expression(words).shape == "bowl"
    if bowl:
        return "in"
    return "on" if previous in (None, "in") else previous


def _filled(words: str, scene: SceneObservation, candidate: Candidate) -> str:
    """'the blue one' -> 'the blue cube' when the object it was taking is a cube and a blue cube
    is there to take (else the words as said: the grounder reads 'one' as any shape)."""
    expr = _PARSER.parse_expression(words)
    current = _by_index(scene, candidate.pick)
    if expr.shape is not None or not expr.pronoun or current is None:
        return words
    if expr.color is not None and not any(o.color == expr.color and o.shape == current.shape
                                          and o.index != current.index for o in scene.objects):
        return words
    return _fill_one(words, current.shape)


def _fill_one(words: str, shape: str) -> str:
    if _PARSER.parse_expression(words).shape is not None:
        return words
    filled = re.sub(r"\bone\b", shape, words, count=1)
    return filled if filled != words else f"{words} {shape}"


def _sim_id(scene: Optional[SceneObservation], candidate: Optional[Candidate]) -> Optional[str]:
    obj = _by_index(scene, candidate.pick) if scene is not None and candidate is not None else None
    return obj.sim_id if obj is not None else None


def answer_correction(state: AgentState, ctx: Any, question: PendingQuestion, answer: str) -> dict[str, Any]:
    """Fold the answer to "what should I do instead?" into the state (``clarify`` calls it after
    its ``interrupt``): read as a correction of what it was doing; "ok" / "go on" carries on
    with the same object and place; an unreadable answer is asked once more, then it gives up."""
    reading = read_interjection(answer, answering=True)
    ctx.transcript.write("answer", answer, reading=reading.model_dump() if reading else None, question=question.text)
    dialogue = [*state.get("dialogue", []), DialogueTurn(who="user", text=answer, kind="answer")]
    base: dict[str, Any] = {"question": None, "dialogue": dialogue, "unusable_answers": 0}
    target = state.get("target") or state.get("last_target")
    if reading is None or reading.kind == "unclear":
        unusable = state.get("unusable_answers", 0) + 1
        if unusable >= ctx.settings.max_unusable_answers or state.get("asked", 0) >= ctx.settings.max_questions:
            return {**base, "unusable_answers": unusable, "outcome": Outcome(
                status="gave_up", success=False, message="I still don't know what you'd like, so I'll stay still.")}
        again = PendingQuestion(text=ASK_AGAIN, options=[], about="correction", attempt=2)
        ctx.transcript.write("question", ASK_AGAIN, options=[], about="correction")
        return {**base, "unusable_answers": unusable, "question": again, "asked": state.get("asked", 0) + 1,
                "questions": [*state.get("questions", []), ASK_AGAIN],
                "dialogue": [*dialogue, DialogueTurn(who="robot", text=ASK_AGAIN, kind="question")]}
    if reading.kind == "resume" and target is not None:
        return {**base, "correction": True, "restrict": [target.pick],
                "restrict_place": [target.place] if target.place is not None else None}
    if reading.kind == "pause":
        reading = reading.model_copy(update={"kind": "stop"})  # it already holds still: wait for "go on"
    moved = state.get("steps", 0) > 1 or state.get("grasped", False)
    change, said = apply_correction({**state, **base}, reading, target, hand_of(ctx.arm.get_observation()),
                                    moved=moved, grasped=state.get("grasped", False))
    if said:
        ctx.say(said)
        ctx.transcript.write("say", said)
        change.setdefault("dialogue", [*dialogue, DialogueTurn(who="robot", text=said)])
    return {**base, **change}
