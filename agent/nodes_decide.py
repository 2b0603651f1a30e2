"""Graph nodes that choose what to do with a grounding: decide, clarify, refuse.

``decide`` acts only when one interpretation is clearly best (one distinct pick/place in the
prediction set and confidence at or above the threshold). It re-perceives once when the words
and the image disagree, asks ONE question naming what tells the options apart when several
are plausible, and refuses without moving when nothing matches or the person's patience or
answers run out. ``clarify`` is the only node that interrupts: it calls ``interrupt`` first
and has no side effects before it, because on resume it re-runs from its top.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Optional, Sequence

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from perception.types import Candidate, GroundingResult, PerceivedObject, SceneObservation

from agent.context import AgentContext, AgentSettings
from agent.corrections import answer_correction
from agent.dialogue import (
    between_question,
    cannot_see_message,
    confirm_question,
    understood,
    interpret_answer,
    noun,
    question_order,
    said_attributes,
    which_question,
)
from agent.near_miss import near_misses
from agent.state import AgentState, Decision, DialogueTurn, Outcome, PendingQuestion

#: The state key that holds the person's answer about each slot.
RESTRICT_KEYS: dict[str, str] = {"pick": "restrict", "place": "restrict_place", "place2": "restrict_place2"}
#: Decision reason of a question about a near miss (only one such question per instruction).
NEAR_MISS_REASON = "nothing matches exactly; one object is a near miss"


def by_index(scene: SceneObservation, index: Optional[int]) -> Optional[PerceivedObject]:
    return next((o for o in scene.objects if o.index == index), None)


def _unique(values: list[Optional[int]]) -> list[int]:
    return [v for v in dict.fromkeys(values) if v is not None]


def decide(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Choose act | clarify | reperceive | refuse; a clarify also composes the question."""
    ctx = runtime.context
    g, scene = state["grounding"], state["scene"]
    assert g is not None and scene is not None, "decide runs after ground"
    preferred: list[int] = []
    relaxed = getattr(ctx.grounder, "relaxed", None)
    if not g.prediction_set and relaxed is not None and state.get("restrict") is None:
        # Ground again without the words nothing has: its ranking keeps size/position words.
        # Picks the relaxed grounding ranked apart; look-alikes it scores alike (the size and
        # position words did not separate them) stay unranked, so colour nearness decides.
        ranked = relaxed(state["instruction"], scene).prediction_set
        preferred = _unique([c.pick for c in ranked if sum(abs(c.score - o.score) < 0.01 for o in ranked) == 1])
    decision, question = _choose(state, g, scene, ctx.settings, checked=ctx.consistency is not None,
                                 preferred=preferred, calibrated=ctx.calibration is not None)
    scores = f"confidence {decision.confidence:.2f}, {decision.set_size} plausible" + (
        f", consistency {decision.consistency:.2f}" if decision.consistency is not None else "")
    ctx.transcript.write("decision", f"{decision.kind}: {decision.reason} ({scores})", **decision.model_dump())
    update: dict[str, Any] = {"decision": decision}
    parser = getattr(ctx.grounder, "parser", None)
    unknown = unknown_words(g, parser.lexicon) if parser is not None else []
    if decision.kind in ("act", "clarify") and unknown and not state.get("asked"):
        # Say which words were not used, once per instruction (before its first question or act).
        text = f"I don't know the word{'s' if len(unknown) > 1 else ''} {' or '.join(repr(w) for w in unknown)}, so I'll go by the rest."
        ctx.say(text)
        ctx.transcript.write("say", text, unknown_words=unknown)
        update["dialogue"] = [*state.get("dialogue", []), DialogueTurn(who="robot", text=text)]
    if question is not None:
        options = [by_index(scene, i) for i in question.options]
        image = show_question(ctx, [o for o in options if o is not None], question.text, state.get("asked", 0) + 1)
        question = question.model_copy(update={"image": image})
        ctx.transcript.write("question", question.text, options=question.options,
                             sim_ids=[o.sim_id if o else None for o in options], about=question.about, image=image)
        update.update(
            question=question,
            asked=state.get("asked", 0) + 1,
            questions=[*state.get("questions", []), question.text],
            dialogue=[*update.get("dialogue", state.get("dialogue", [])),
                      DialogueTurn(who="robot", text=question.text, kind="question")],
        )
    if question is not None and decision.reason == NEAR_MISS_REASON:
        update["near_miss_asked"] = True
    if decision.kind == "refuse":
        update["outcome"] = Outcome(status=decision.status or "refused", success=False, message=decision.say)
    return update


def show_question(ctx: AgentContext, options: list[PerceivedObject], text: str, number: int) -> Optional[str]:
    """Save the camera frame with the options numbered (next to the transcript); its path or None."""
    path = ctx.transcript.path
    rgb = ctx.arm.get_observation().get("rgb") if path is not None else None
    if path is None or rgb is None:
        return None
    from agent.question_image import draw_question

    return str(draw_question(rgb, options, path.with_name(f"{path.stem}-question-{number}.png"), caption=text))


def _choose(state: AgentState, g: GroundingResult, scene: SceneObservation, settings: AgentSettings,
            checked: bool = False, preferred: Sequence[int] = (),
            calibrated: bool = False) -> tuple[Decision, Optional[PendingQuestion]]:
    """The decision rules, in order; ``checked``: a SigLIP check ran (its note says the verdict);
    ``preferred``: picks a relaxed grounding ranked, tried first as near misses; ``calibrated``:
    the prediction set is a conformal one (a singleton is acted on whatever the confidence)."""
    pset = g.prediction_set
    picks = _unique([c.pick for c in pset])
    places = _unique([c.place for c in pset])
    seconds = _unique([c.place2 for c in pset if c.place2 is not None])
    signals = dict(
        confidence=g.confidence, consistency=g.consistency, set_size=len({(c.pick, c.place, c.place2) for c in pset}),
        scores={c.pick: c.score for c in reversed(g.candidates)},
    )
    answered = any(state.get(key) is not None for key in RESTRICT_KEYS.values())
    said_color, said_shape = said_attributes(g.parse.get("pick") or state["instruction"])
    near = None
    if not pset and not answered and not state.get("near_miss_asked"):
        excluded = [c.pick for c in state.get("excluded", [])]
        misses = near_misses(scene.objects, said_color, said_shape, excluded, preferred=preferred)
        near = misses[0] if misses else None
    if checked:
        inconsistent = state.get("consistency_note") is not None
    else:
        inconsistent = g.consistency is not None and g.consistency < settings.consistency_threshold
    # Perception's own labels disagree with the words (it matched "blue" on a 20% blue belief).
    best = by_index(scene, max(pset, key=lambda c: c.score).pick) if pset else None
    mislabelled = best is not None and _belief(best, said_color, said_shape) < settings.near_miss_prob
    inconsistent = (inconsistent or mislabelled or near is not None) and not answered
    # Looking again renumbers the objects, which would orphan the indices ruled out so far.
    if inconsistent and state.get("reperceptions", 0) < settings.max_reperceptions and not state.get("excluded"):
        seen = near or best
        why = state.get("consistency_note") or (
            f"the words say {said_color or ''} {said_shape or ''} but I see {seen.describe()}".replace("  ", " ")
            if seen is not None else "words and image disagree")
        return Decision(kind="reperceive", reason=why, **signals), None
    looked = state.get("reperceptions", 0) >= settings.max_reperceptions
    if calibrated and not pset and g.candidates and not looked and not answered and not state.get("excluded"):
        # Something scored, but below the calibrated threshold: a second look before giving up.
        return Decision(kind="reperceive", reason="nothing reaches the calibrated threshold", **signals), None
    place_words = g.parse.get("place")
    if not pset and near is None and place_words and missing_slot(g) == "place":
        return Decision(kind="refuse", reason="no place in view matches the request",
                        say=cannot_see_message(place_words), status="refused", **signals), None
    if not pset and near is None:
        what = g.parse.get("pick") or " ".join(g.unmatched) or state["instruction"]
        if any(_belief(o, said_color, said_shape) >= 0.5 for o in _objects(scene, state.get("excluded", []))):
            what = f"another {what.removeprefix('the ').removeprefix('a ')}"
        return Decision(kind="refuse", reason="nothing in view matches the request", say=cannot_see_message(what),
                        status="refused", **signals), None
    if pset and place_words and all(c.place is None for c in pset):
        return Decision(kind="refuse", reason="no place in view matches the request",
                        say=cannot_see_message(place_words), status="refused", **signals), None
    clear = len(picks) == 1 and len(places) <= 1 and len(seconds) <= 1 and (calibrated or g.confidence >= settings.confidence_threshold)
    if clear and not inconsistent:
        return Decision(kind="act", reason="one interpretation is clearly best", **signals), None
    if state.get("unusable_answers", 0) >= settings.max_unusable_answers:
        return Decision(kind="refuse", reason="answers could not be used", status="gave_up",
                        say=f"I understood: {understood(g.parse)}. I still can't tell which one you mean, so I'll stop "
                            "here without moving.", **signals), None
    if state.get("asked", 0) >= settings.max_questions:
        return Decision(kind="refuse", reason="asked as many questions as allowed", status="gave_up",
                        say=f"I understood: {understood(g.parse)}. I'm still not sure which one you mean, so I won't "
                            "move. Please tell me again.", **signals), None
    question, why = _ask(state, scene, pset, picks, places, seconds, near if near is not None else (best if inconsistent else None),
                         said_color, said_shape)
    return Decision(kind="clarify", reason=NEAR_MISS_REASON if near is not None else why, **signals), question


def _ask(state: AgentState, scene: SceneObservation, pset: list[Candidate], picks: list[int], places: list[int],
         seconds: list[int], doubted: Optional[PerceivedObject], said_color: Optional[str],
         said_shape: Optional[str]) -> tuple[PendingQuestion, str]:
    """ONE short question: yes/no about a doubted object, else which of the plausible ones.

    Rephrased (attempt 2) after an unusable answer. Returns the question and why it is asked.
    """
    attempt = 2 if state.get("unusable_answers", 0) > 0 else 1
    viewpoint = scene.viewpoint
    if doubted is not None and (len(picks) <= 1):
        said = f"{said_color or doubted.color} {said_shape or doubted.shape}"
        text = confirm_question(doubted, scene.objects, viewpoint, attempt, said=said if said != noun(doubted) else None)
        note = state.get("consistency_note")
        if note and said == noun(doubted) and attempt == 1:
            text = f"{text} {note}"  # SigLIP's own words: "I see an orange cube, not a red one."
        return PendingQuestion(text=text, options=[doubted.index], yes_no=True, attempt=attempt), \
            "words and image still disagree"
    if len(picks) <= 1 and len(places) == 1 and len(seconds) > 1:  # "between the red bowl and the cube"
        first = by_index(scene, places[0])
        objs = question_order([o for i in seconds if (o := by_index(scene, i))], viewpoint)
        assert first is not None, "prediction set refers to a perceived object"
        return PendingQuestion(text=between_question(first, objs, scene.objects, viewpoint, attempt),
                               options=[o.index for o in objs], about="place2", attempt=attempt), \
            f"{len(objs)} second references fit"
    if len(picks) > 1 or len(places) > 1:
        about: Literal["pick", "place"] = "pick" if len(picks) > 1 else "place"
        objs = question_order([o for i in (picks if about == "pick" else places) if (o := by_index(scene, i))], viewpoint)
        relation = next((c.relation for c in pset if c.relation), "in") if about == "place" else None
        return PendingQuestion(text=which_question(objs, viewpoint, attempt, relation), options=[o.index for o in objs],
                               about=about, attempt=attempt), f"{len(objs)} {'objects' if about == 'pick' else 'places'} fit"
    obj = by_index(scene, picks[0])
    assert obj is not None, "prediction set refers to a perceived object"
    text = confirm_question(obj, scene.objects, viewpoint, attempt)
    return PendingQuestion(text=text, options=[obj.index], yes_no=True, attempt=attempt), "confidence is low"


def unknown_words(g: GroundingResult, lexicon: Any) -> list[str]:
    """Words of the request the parser could not use (not in ``lexicon``, the grounder's own):
    'shiny' in "the shiny red block". Colours and shapes merely absent from the table are not."""
    return [w for w in g.unmatched if all(t.kind == "unknown" for t in lexicon.tokenize(w))]


def missing_slot(g: GroundingResult) -> Optional[str]:
    """The slot of the request nothing in view fits: 'pick' when no object to move is found,
    'place' when it is but no place is (its phrase matches nothing, or its calibrated set is
    empty), None when both slots have members."""
    sets, matches = g.slot_sets, g.slot_matches
    if sets.get("pick") == [] or matches.get("pick") == []:
        return "pick"
    if sets.get("place") == [] or matches.get("place") == []:
        return "place"
    return None


def _belief(obj: PerceivedObject, color: Optional[str], shape: Optional[str]) -> float:
    """Perception's probability that ``obj`` has the said colour and shape (1 for unsaid ones)."""
    c = 1.0 if color is None or obj.color == color else obj.color_scores.get(color, 0.0)
    s = 1.0 if shape is None or obj.shape == shape else obj.shape_scores.get(shape, 0.0)
    return c * s


def _objects(scene: SceneObservation, candidates: list[Candidate]) -> list[PerceivedObject]:
    return [o for c in candidates if (o := by_index(scene, c.pick)) is not None]


def clarify(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Put the pending question to the person and fold the answer into the state.

    ``interrupt`` comes first: on resume this node re-runs from here with the answer.
    """
    question = state["question"]
    assert question is not None, "clarify runs after decide composed a question"
    answer = str(interrupt(question.model_dump()))
    if question.about == "correction":
        return answer_correction(state, runtime.context, question, answer)
    ctx, scene, g = runtime.context, state["scene"], state["grounding"]
    assert scene is not None and g is not None
    options = [o for i in question.options if (o := by_index(scene, i))]
    pool_ids = _unique([i for c in g.candidates if (i := getattr(c, question.about)) is not None])
    fallback = [o for i in pool_ids if (o := by_index(scene, i))]
    reading = interpret_answer(answer, options, scene.viewpoint, question.yes_no, fallback)
    ctx.transcript.write("answer", answer, reading=reading.model_dump(), question=question.text)
    update: dict[str, Any] = {
        "question": None,
        "dialogue": [*state.get("dialogue", []), DialogueTurn(who="user", text=answer, kind="answer")],
        "unusable_answers": 0,
    }
    key = RESTRICT_KEYS[question.about]
    if reading.kind == "cancel":
        update["outcome"] = Outcome(status="cancelled", success=False, message="Okay, never mind. I won't move.")
    elif reading.kind in ("choose", "narrow"):
        update[key] = reading.picks
    elif reading.kind == "other" and question.about == "pick":
        ruled_out = [i for i in question.options if i not in reading.picks]
        update["excluded"] = [*state.get("excluded", []), *(Candidate(pick=i, score=0.0) for i in ruled_out)]
    elif reading.kind == "other" and reading.picks:
        update[key] = reading.picks
    elif reading.kind == "elsewhere" and reading.named is not None and _on_table(ctx, scene, reading.named, question):
        # Something outside the offered set: ground the request again over the whole table with
        # the answer's words in the asked-about slot. What was offered is ruled out (for a pick),
        # so a misread object ("yellow cylinder" for the yellow cube) comes up as a near miss.
        update["instruction"] = reworded(state["instruction"], g.parse.get(question.about), reading.named)
        update.update({k: None for k in RESTRICT_KEYS.values()})
        if question.about == "pick":
            update["excluded"] = [*state.get("excluded", []), *(Candidate(pick=i, score=0.0) for i in question.options)]
    else:
        update["unusable_answers"] = state.get("unusable_answers", 0) + 1
    return update


def _on_table(ctx: AgentContext, scene: SceneObservation, named: str, question: PendingQuestion) -> bool:
    """Whether what an answer names is anywhere on the table, as its words or a near miss
    (otherwise the answer is unusable and the question is put again, not the request refused)."""
    parsed = ctx.grounder.parse(f"pick up {named}")
    if ctx.grounder.ground(parsed, scene).candidates:
        return True
    color, shape = said_attributes(named)
    offered = question.options if question.about == "pick" else []
    return bool(near_misses(scene.objects, color, shape, offered))


def reworded(instruction: str, slot_words: Optional[str], named: str) -> str:
    """``instruction`` with one slot's phrase (as the parser read it) replaced by ``named``; when
    the phrase is not found word for word, the request is said anew with the named object."""
    if slot_words:
        pattern = r"\b" + r"\s+".join(re.escape(w) for w in slot_words.split()) + r"\b"
        if re.search(pattern, instruction, flags=re.I):
            return re.sub(pattern, named, instruction, count=1, flags=re.I)
    return f"pick up {named}"


def refuse(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Do not move. ``decide`` already set the outcome and its explanation; report says it."""
    return {"target": None}
