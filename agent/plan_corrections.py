"""Corrections that address the plan rather than the motion: read them, and apply them.

While a plan runs, the person may change the plan itself:

- ``skip``: "skip the blue one", "leave out the ball", "not the green cube": that step is dropped;
- ``stop_after``: "stop after this one", "that's the last one": the running step is the last;
- ``first``: "do the ball first", "start with the red cube": that step goes next;
- ``add``: "also the green one", "and the ball too": one more step, to the same place;
- ``all``: "no, all of them": every object of the plan's kind that is not in it yet is added.

They never halt the arm: :class:`PlanListener` sits between the person and the motion loop,
keeps what it reads as a plan correction for ``agent.nodes_plan`` (applied when the running step
ends) and passes everything else on, so every single-step correction ("no, the other one",
"stop", "wait") works inside a step as before.
"""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict

from perception.referring import ReferringParser
from perception.types import PerceivedObject

from agent.plan import NEXT_IN_SEQUENCE, Plan, PlanStep

PlanCorrectionKind = Literal["skip", "stop_after", "first", "add", "all"]

_PARSER = ReferringParser()
_LEAD = r"^(?:(?:no|ok|okay|oh|actually|and|but|please|wait)\b,?\s*)*"
_PATTERNS: tuple[tuple[PlanCorrectionKind, re.Pattern[str]], ...] = (
    ("stop_after", re.compile(_LEAD + r"(?:.*\bstop after (?:this|that|the current|the next) one\b|.*\b(?:this|that) "
                              r"(?:is|one is|will be|'s) the last(?: one)?\b|(?:just|only) (?:this|that) one\b|"
                              r"after (?:this|that) one,? (?:stop|that's it|you can stop)\b)")),
    ("all", re.compile(_LEAD + r"(?:all of them|all of those|every one of them|them all|all|the whole lot|"
                       r"do them all|do all of them)(?: please)?$")),
    ("skip", re.compile(_LEAD + r"(?:skip|leave out|don't do|do not do|forget(?: about)?|drop|not|never ?mind|"
                        r"no need for)\s+(?P<w>.+?)(?:\s+(?:out|alone|there|please))*$")),
    ("first", re.compile(_LEAD + r"(?:(?:do|take|move|put|grab|get)\s+(?P<w>.+?)\s+(?:first|next)(?: please)?$"
                         r"|(?:start|begin) with\s+(?P<w2>.+?)(?: first)?$)")),
    ("add", re.compile(_LEAD + r"(?:also|plus|and)\s+(?P<w>.+?)(?:,?\s+(?:too|as well|please))*$"
                       r"|" + _LEAD + r"(?P<w3>(?:the|that)\s+.+?),?\s+(?:too|as well)$")),
)

#: Words of a whole request inside what would be a correction's phrase: a sequence, or a placement.
_REQUEST = re.compile(r"\b(?:then|after that|afterwards|finally|" + NEXT_IN_SEQUENCE + r")\b|"
                      r"\b(?:in|into|inside|on|onto|to)\s+(?:the|a)\s+(?:\w+\s+)?(?:bowls?|dish(?:es)?|containers?|plates?)\b")


class PlanCorrection(BaseModel):
    """One utterance read as a change of the plan."""

    model_config = ConfigDict(frozen=True)

    kind: PlanCorrectionKind
    text: str
    words: str = ""


def read_plan_correction(text: str) -> Optional[PlanCorrection]:
    """Read ``text`` as a plan correction; None when it is not one (then it may be a motion
    correction, ``agent.interjection``)."""
    flat = " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())
    for kind, pattern in _PATTERNS:
        m = pattern.match(flat)
        if m is None:
            continue
        words = next((g for g in (m.groupdict().get(k) for k in ("w", "w2", "w3")) if g), "")
        if kind in ("skip", "first", "add") and (not _names(words) or _REQUEST.search(words)):
            continue  # "start with the ball, then the cube, in the bowl" is a request of its own
        return PlanCorrection(kind=kind, text=text, words=words)
    return None


def _names(words: str) -> bool:
    expr = _PARSER.parse_expression(words)
    return bool(expr.color or expr.shape)


def _fits(words: str, step: PlanStep) -> bool:
    """The phrase names the step's object: its colour and shape where said."""
    said = _PARSER.parse_expression(words)
    named = step.pick if step.pick is not None else _PARSER.parse_expression(step.words)
    color, shape = named.color, named.shape
    return (said.color is None or said.color == color) and (said.shape is None or said.shape == shape) \
        and bool(said.color or said.shape)


def apply_plan_correction(plan: Plan, correction: PlanCorrection) -> tuple[Plan, str]:
    """The plan changed as the person said, and what the robot answers."""
    pending = [i for i, s in enumerate(plan.steps) if s.status == "pending"]
    if correction.kind == "stop_after":
        return plan.model_copy(update={"stop_after": True}), "Okay, I'll stop after this one."
    if correction.kind == "skip":
        hits = [i for i in pending if _fits(correction.words, plan.steps[i])]
        for i in hits:
            plan = plan.with_step(i, status="skipped", message="skipped, as you said")
        if not hits:
            return plan, f"I wasn't going to do {correction.words} anyway."
        return plan, f"Okay, I'll skip {_listing([plan.steps[i].words for i in hits])}."
    if correction.kind == "first":
        hit = next((i for i in pending if _fits(correction.words, plan.steps[i])), None)
        if hit is None:
            return plan, f"{correction.words.capitalize()} is not among what is left to do."
        steps = list(plan.steps)
        step = steps.pop(hit)
        steps.insert(pending[0] if pending[0] < hit else hit, step)
        return plan.model_copy(update={"steps": steps}), f"Okay, {step.words} next."
    if correction.kind == "add":
        words = _filled(correction.words, plan)
        placement = plan.steps[-1].placement if plan.steps else ""
        verb = "put" if placement else "pick up"
        step = PlanStep(instruction=f"{verb} {words} {placement}".strip(), words=words, placement=placement)
        return plan.model_copy(update={"steps": [*plan.steps, step]}), f"Okay, I'll also do {words}."
    return _widen(plan)


def _widen(plan: Plan) -> tuple[Plan, str]:
    """'No, all of them': every object of the plan's kind seen at planning that no step has yet."""
    kind = plan.selector or _common_kind(plan)
    taken = {s.pick.index for s in plan.steps if s.pick is not None}
    named = [_PARSER.parse_expression(s.words) for s in plan.steps if s.pick is None]
    added: list[PlanStep] = []
    placement = plan.steps[-1].placement if plan.steps else ""
    for obj in plan.seen.objects:
        if obj.shape == "bowl" or obj.index in taken or not _of_kind(obj, kind):
            continue
        if any(n.color == obj.color and n.shape in (None, obj.shape) for n in named):
            continue
        words = f"the {obj.color} {obj.shape}"
        added.append(PlanStep(instruction=f"{'put' if placement else 'pick up'} {words} {placement}".strip(),
                              words=words, placement=placement, pick=obj))
    if not added:
        return plan, "That is all of them already."
    return (plan.model_copy(update={"steps": [*plan.steps, *added]}),
            f"Okay, all of them: I'll also do {_listing([s.words for s in added])}.")


def _common_kind(plan: Plan) -> dict[str, Optional[str]]:
    shapes = {(s.pick.shape if s.pick is not None else _PARSER.parse_expression(s.words).shape) for s in plan.steps}
    return {"color": None, "shape": shapes.pop() if len(shapes) == 1 else None}


def _of_kind(obj: PerceivedObject, kind: dict[str, Optional[str]]) -> bool:
    return kind.get("color") in (None, obj.color) and kind.get("shape") in (None, obj.shape)


def _filled(words: str, plan: Plan) -> str:
    """'the green one' -> 'the green cube' when the plan moves cubes."""
    if not re.search(r"\bones?\b", words):
        return words
    shape = _common_kind(plan).get("shape")
    return re.sub(r"\bone\b", shape, words, count=1) if shape else words


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" and {items[-1]}"


class PlanListener:
    """An interjection source around the person's: plan corrections are kept (read by
    ``agent.nodes_plan`` when the step ends), everything else goes on to the motion loop."""

    def __init__(self, inner: object, transcript: object) -> None:
        self.inner = inner
        self.transcript = transcript
        self.kept: list[PlanCorrection] = []

    def poll(self, step: int) -> Optional[str]:
        said = self.inner.poll(step)  # type: ignore[attr-defined]
        if not said:
            return said
        reading = read_plan_correction(said)
        if reading is None:
            return said
        self.kept.append(reading)
        self.transcript.write("interjection", said, step=step, plan_correction=reading.model_dump())  # type: ignore[attr-defined]
        return None

    def take(self) -> list[PlanCorrection]:
        kept, self.kept = self.kept, []
        return kept

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)
