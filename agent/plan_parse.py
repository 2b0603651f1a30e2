"""Read a compound request into typed pick groups, then expand them on a look into a plan.

``parse_compound(text) -> CompoundRequest | None`` (None: a single-object request, which the
graph handles exactly as before). The forms it reads:

- conjunctions: "the red cube and the blue ball", "the cube, the ball and the can";
- quantifiers: "all the red blocks", "every ball", "both cubes", "the red blocks" (a plural),
  "everything", "clear the table", "the rest" / "the others" / "everything else";
- counts: "two of the cubes", "three red blocks";
- sequences: "first ..., then ...", "... and then ...", "after that ...", "finally ...";
  a clause with no placement takes its neighbour's ("first the ball, then the cube, into the bowl");
- matching: "each block in the bowl of its colour", "sort the blocks into the matching bowls";
- exclusions: "all the cubes except the green one", "... but not the blue ball".

``expand(request, scene, ground) -> Plan``: a quantifier's members, a count's first n (nearest
the robot first) and the rest are chosen from the look; a conjunction's phrases stay words, each
grounded (and calibrated) when its step starts, so an ambiguous one is asked about as before.
Text only, no model: a few milliseconds (``benchmarks/bench_plan.py``).
"""

from __future__ import annotations

import re
from typing import Callable, Literal, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from perception.lexicon import SHAPE_WORDS
from perception.referring import ReferringParser
from perception.types import PerceivedObject, SceneObservation

from agent.dialogue import describe, placement_words
from agent.plan import NEXT_IN_SEQUENCE, Plan, PlanStep
from agent.plan_corrections import read_plan_correction

GroupKind = Literal["one", "all", "count", "rest"]

_PARSER = ReferringParser()
_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "2": 2, "3": 3, "4": 4, "5": 5, "both": 2, "a couple of": 2,
           "a pair of": 2}
_SEQUENCE = re.compile(r"\s*(?:[,;]\s*)?\b(?:and then|and after that|after that|afterwards|then|" + NEXT_IN_SEQUENCE +
                       r"|and finally|finally|and lastly|lastly)\b\s*,?\s*")
_LEAD = re.compile(r"^(?:first(?:ly)?|to start(?: with)?|start with|begin with|to begin(?: with)?)\b\s*,?\s*")
_FIRST_LATE = re.compile(r"(?<!the )\bfirst\b")
_EXCEPT = re.compile(r"\b(?:except(?: for)?|but not|apart from|other than|excluding|save for|but)\b")
_PLACE_AFTER = re.compile(r"\b(?:in|into|inside|on|onto|to|next to|beside|near|behind|in front of|left of|right of)\s+"
                          r"(?:the|a|an)\b")
_MATCHING = re.compile(r"\b(?:in|into|inside|to)\s+(?:the\s+)?(?:bowls?|dish(?:es)?|containers?)\s+(?:of|with|in|that match(?:es)?|"
                       r"matching)\s+(?:its|their|the same|the matching|a matching)\s+colou?rs?\b"
                       r"|\b(?:in|into|inside|to)\s+(?:the\s+|their\s+|its\s+)?(?:matching|same[- ]colou?r(?:ed)?)\s+"
                       r"(?:bowls?|dish(?:es)?|containers?)\b|\bby colou?r\b")
_LIST_COMMA = re.compile(r"\s*,\s*(?:and\s+)?(?=(?:the|a|an|all|every|each|both|two|three|four|five|that|this)\b)")
_CLEAR = re.compile(r"\bclear(?: off| up)?\s+(?:the\s+)?table\b")
_CONJ = re.compile(r"\s*(?:,\s*(?:and\s+)?|\band\b|\bas well as\b|\bplus\b|\balong with\b)\s*")
_REST = re.compile(r"^(?:all\s+)?(?:the\s+)?(?:rest|others|other ones|remaining ones|remaining|everything else|"
                   r"anything else|all the others|all the rest)\b(?:\s+of\s+(?:the\s+)?(?P<sel>.+))?$")
_ALL = re.compile(r"^(?:all(?:\s+of)?|every|each(?:\s+of)?|any)\s+(?:the\s+)?(?P<sel>.*)$")
_COUNT = re.compile(r"^(?P<n>two|three|four|five|2|3|4|5|both|a couple of|a pair of)\s+(?:of\s+)?(?:the\s+)?(?P<sel>.*)$")
_EVERYTHING = re.compile(r"^(?:everything|every ?thing|all(?: of)? (?:them|it)|all|all the (?:objects|things|toys|items)|"
                         r"the (?:objects|things|toys|items))$")
_PLURAL_SHAPES = frozenset(w for w in SHAPE_WORDS if w.endswith(("s", "es")) and w not in ("dice", "box", "brass"))
_GENERIC_PLURALS = frozenset({"ones", "things", "objects", "items", "toys", "pieces"})
#: Words the lexicon reads otherwise ("rest" is a verb, "everything" a filler), in words it reads.
_WORDS_FOR = {"everything else": "the others", "anything else": "the others", "the rest": "the others",
              "rest": "others", "everything": "all the objects", "sort": "put", "tidy": "put"}
_WORDING = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, _WORDS_FOR), key=len, reverse=True)) + r")\b")
_ADDED = re.compile(r"\b(?:also|too|as well)\b")
_FILLER = re.compile(r"\b(?:please|thanks|thank you|for me|now)\b")


class Selector(BaseModel):
    """A kind of object: colour and shape (None: any)."""

    model_config = ConfigDict(frozen=True)

    color: Optional[str] = None
    shape: Optional[str] = None

    def fits(self, obj: PerceivedObject) -> bool:
        return (self.color is None or obj.color == self.color) and (self.shape is None or obj.shape == self.shape)


class PickGroup(BaseModel):
    """One phrase of the request's objects and where they go."""

    model_config = ConfigDict(frozen=True)

    kind: GroupKind
    words: str = Field(description="the person's phrase: 'the blue ball', 'all the red blocks'")
    selector: Selector = Field(default_factory=Selector)
    count: Optional[int] = None
    exclude: list[Selector] = Field(default_factory=list)
    placement: str = Field("", description="'in the green bowl'; '' = none said (a pick-up)")
    matching: bool = Field(False, description="each into the bowl of its own colour")


class CompoundRequest(BaseModel):
    """A request of several objects: its groups in the order said."""

    model_config = ConfigDict(frozen=True)

    text: str
    groups: list[PickGroup]
    ordered: bool = Field(False, description="the person said the order ('first ..., then ...')")


def parse_compound(text: str) -> Optional[CompoundRequest]:
    """The request's pick groups, or None when it names one object (the single-step path) or
    corrects a plan ("no, all of them": ``agent.plan_corrections``)."""
    if read_plan_correction(text) is not None:
        return None
    flat = _FILLER.sub(" ", text.lower().replace("#", " number "))  # as lexicon.normalize, commas kept
    flat = " ".join(re.sub(r"[^a-z0-9',; -]+", " ", flat).replace(",", " , ").split())
    clauses = [c.strip(" ,;") for c in _SEQUENCE.split(_LEAD.sub("", flat)) if c.strip(" ,;")]
    groups: list[PickGroup] = []
    verb = "put"
    for n, clause in enumerate(clauses):
        clause = _FIRST_LATE.sub(" ", clause).strip() if n == 0 else clause
        parsed, verb = _clause(clause, verb)
        groups.extend(parsed)
    if not groups:
        return None
    if len(clauses) > 1:  # a clause that named no place takes its neighbour's ("first the ball, then the cube")
        groups = _fill_placements(groups)
    if len(groups) == 1 and groups[0].kind == "one":
        return None
    return CompoundRequest(text=text, groups=groups, ordered=len(clauses) > 1)


def _clause(clause: str, verb: str) -> tuple[list[PickGroup], str]:
    """Groups of one clause, and its verb (the next clause may leave it out)."""
    clause = _WORDING.sub(lambda m: _WORDS_FOR[m.group(0)], clause)
    matching = bool(_MATCHING.search(clause))
    clause = _MATCHING.sub(" ", clause)
    cleared = bool(_CLEAR.search(clause))
    clause = _CLEAR.sub("put all the objects", clause)
    clause = _LIST_COMMA.sub(" and ", clause)  # "the cube, the ball and the can": the tokens drop commas
    excluded, clause = _exclusions(clause)
    tokens = _PARSER.lexicon.tokenize(clause)
    if not any(t.kind == "verb" for t in tokens):
        clause = f"{verb} {clause}"
    else:
        verb = next(t.text for t in tokens if t.kind == "verb")
    parsed = _PARSER.parse_instruction(clause)
    placement = ""
    if parsed.action == "place":
        place = parsed.place.text if parsed.place is not None else None
        place2 = parsed.place2.text if parsed.place2 is not None else None
        placement = placement_words(parsed.relation or "in", place, place2, parsed.region)
    pick_text = parsed.pick.text.strip()
    if cleared and not pick_text:
        pick_text = "everything"
    phrases = [_ADDED.sub(" ", p).strip() for p in _CONJ.split(pick_text) if p and p.strip()]
    return [_group(p, placement, excluded, matching) for p in phrases if _names_kind(p) or _quantified(p)], verb


def _exclusions(clause: str) -> tuple[list[Selector], str]:
    """'all the cubes except the green one and the red one in the bowl' -> ([green, red], the rest)."""
    m = _EXCEPT.search(clause)
    if m is None or m.start() == 0:
        return [], clause
    after = clause[m.end():]
    stop = _PLACE_AFTER.search(after)
    span = after[: stop.start()] if stop else after
    rest = clause[: m.start()] + " " + (after[stop.start():] if stop else "")
    selectors = []
    for phrase in _CONJ.split(span):
        expr = _PARSER.parse_expression(phrase)
        if expr.color or expr.shape:
            selectors.append(Selector(color=expr.color, shape=expr.shape))
    return selectors, " ".join(rest.split())


def _names_kind(phrase: str) -> bool:
    """The phrase says what kind of object (a colour or a shape): 'on second thought' does not."""
    expr = _PARSER.parse_expression(phrase)
    return bool(expr.color or expr.shape)


def _quantified(phrase: str) -> bool:
    return bool(_REST.match(phrase) or _EVERYTHING.match(phrase) or _ALL.match(phrase) or _COUNT.match(phrase))


def _selector(words: str) -> Selector:
    expr = _PARSER.parse_expression(words)
    return Selector(color=expr.color, shape=expr.shape)


def _group(phrase: str, placement: str, excluded: list[Selector], matching: bool) -> PickGroup:
    common = {"words": phrase, "placement": placement, "exclude": excluded, "matching": matching}
    rest = _REST.match(phrase)
    if rest:
        return PickGroup(kind="rest", selector=_selector(rest.group("sel") or ""), **common)
    if _EVERYTHING.match(phrase):
        return PickGroup(kind="all", **common)
    count = _COUNT.match(phrase)
    if count and count.group("sel"):
        n = _COUNTS[count.group("n")]
        return PickGroup(kind="all" if count.group("n") == "both" else "count", selector=_selector(count.group("sel")),
                         count=n, **common)
    every = _ALL.match(phrase)
    if every and every.group("sel"):
        return PickGroup(kind="all", selector=_selector(every.group("sel")), **common)
    words = set(phrase.split())
    if words & _PLURAL_SHAPES or words & _GENERIC_PLURALS:  # "the red blocks": every one of them
        return PickGroup(kind="all", selector=_selector(phrase), **common)
    return PickGroup(kind="one", **common)


def _fill_placements(groups: list[PickGroup]) -> list[PickGroup]:
    out = list(groups)
    for i, g in enumerate(out):
        if g.placement or g.matching:
            continue
        near = [h for h in out[i - 1::-1] if h.placement] if i else []
        near = near or [h for h in out[i + 1:] if h.placement]
        if near:
            out[i] = g.model_copy(update={"placement": near[0].placement})
    return out


# -- expansion on a look ------------------------------------------------------------------------

#: Resolves a phrase ("the red cube") to the object it clearly names in the look, or None
#: (unsure, or nothing): the calibrated grounder, handed in by the caller.
Resolve = Callable[[str], Optional[int]]


def expand(request: CompoundRequest, scene: SceneObservation, resolve: Resolve) -> Plan:
    """The plan of ``request`` on the look ``scene`` (see the module docstring)."""
    movable = [o for o in scene.objects if o.shape != "bowl"]
    by_index = {o.index: o for o in scene.objects}
    claimed: set[int] = set()
    steps: list[PlanStep] = []
    notes: list[str] = []
    selector: Optional[Selector] = None
    named: list[Selector] = []  # what the word steps name: "the rest" leaves those out even when unsure which
    for group in request.groups:
        verb = "put" if group.placement or group.matching else "pick up"
        if group.kind == "one":
            index = resolve(f"{verb} {group.words} {group.placement}".strip())
            if index is not None:
                claimed.add(index)
            named.append(_selector(group.words))
            steps.append(PlanStep(instruction=f"{verb} {group.words} {group.placement}".strip(), words=group.words,
                                  placement=group.placement))
            continue
        pool = [o for o in movable if o.index not in claimed and group.selector.fits(o)
                and not any(x.fits(o) for x in group.exclude) and not _is_reference(o, group.placement)
                and not (group.kind == "rest" and any((x.color or x.shape) and x.fits(o) for x in named))]
        pool.sort(key=lambda o: float(np.hypot(o.position[0], o.position[1])))  # nearest the robot first
        if group.kind == "count" and group.count is not None:
            if len(pool) < group.count:
                notes.append(f"I see only {len(pool)} {_kind_words(group.selector, len(pool))}.")
            pool = pool[: group.count]
        if not pool:
            notes.append(f"I don't see any {_kind_words(group.selector, 2)} to move.")
        selector = group.selector if group.kind == "all" else selector
        for obj in pool:
            placement = group.placement
            if group.matching:
                bowl = next((b for b in scene.objects if b.shape == "bowl" and b.color == obj.color), None)
                if bowl is None:
                    notes.append(f"There is no {obj.color} bowl for the {obj.color} {obj.shape}, so I'll leave it.")
                    continue
                placement = f"in the {bowl.color} bowl"
            words = describe(obj, scene.objects, scene.viewpoint)
            verb = "put" if placement else "pick up"
            claimed.add(obj.index)
            steps.append(PlanStep(instruction=f"{verb} {words} {placement}".strip(), words=words, placement=placement,
                                  pick=by_index[obj.index]))
    return Plan(request=request.text, steps=steps, seen=scene, ordered=request.ordered, notes=notes,
                selector=selector.model_dump() if selector is not None else None)


def _is_reference(obj: PerceivedObject, placement: str) -> bool:
    """``obj`` is what the placement names ('next to the ball': a ball is not moved next to itself)."""
    if not placement:
        return False
    expr = _PARSER.parse_expression(placement)
    return bool(expr.shape or expr.color) and (expr.shape in (None, obj.shape)) and (expr.color in (None, obj.color))


def _kind_words(selector: Selector, n: int) -> str:
    noun = selector.shape or "thing"
    plural = "" if n == 1 else ("es" if noun.endswith("s") else "s")
    return " ".join(w for w in (selector.color, noun + plural) if w)
