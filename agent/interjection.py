"""How the robot reads what the person says about a motion: mid-motion or right after it.

``read_interjection(text) -> InterjectionReading | None`` (None: not about the motion, such as
"nice" or "that's good"; it never halts the arm). The kinds, and what the agent does with each
(``agent.corrections``):

- ``referent``: another object, named ("no, the blue one", "not that one, the ball"): the pick
  slot is re-grounded from ``words``, the rest of the request kept;
- ``other``: another one of the same kind ("no, the other one", "the other cube"): the current
  pick is ruled out;
- ``destination``: another place ("put it in the green bowl instead", "actually, on the red
  block"): the place slot and ``relation`` come from ``words``;
- ``pause`` / ``resume``: "wait", "hold on" ... "ok, go on", "continue";
- ``undo``: "put it back": the object goes back where it was taken from, then it ends;
- ``cancel`` ("never mind", "forget it": undo what was moved, then end) and ``stop`` ("stop",
  "freeze": hold still and end);
- ``unclear``: a correction with nothing to act on ("no!", "that's wrong"): it asks.

Words are read with the project's referring-expression parser (``perception.referring``), so
"block" is a cube and "the big one" a size. ``words`` keeps the person's own noun phrase; a
"one" in it ("the blue one") is filled in by the agent from what it was doing.
"""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from perception.lexicon import RELATION_PHRASES, SHAPE_WORDS
from perception.referring import ReferringExpression, ReferringParser

InterjectionKind = Literal["referent", "other", "destination", "pause", "resume", "undo", "cancel", "stop", "unclear"]
#: Kinds that change what the robot does with its current request (a pick or a place slot).
SLOT_KINDS: tuple[InterjectionKind, ...] = ("referent", "other", "destination")


class InterjectionReading(BaseModel):
    """One utterance read as a correction of the motion (or of the motion just finished)."""

    model_config = ConfigDict(frozen=True)

    kind: InterjectionKind
    text: str = Field(description="what was said")
    slot: Optional[Literal["pick", "place"]] = Field(None, description="the request's slot it changes, if any")
    words: str = Field("", description="the correction's noun phrase ('the blue one', 'the green bowl')")
    relation: Optional[str] = Field(None, description="destination only: in | on | left_of ... (None: keep the request's)")


#: Said while or after the robot works, about nothing it should change (praise, "ok").
ACK_WORDS = frozenset({
    "nice", "good", "great", "perfect", "thanks", "thank", "you", "that's", "thats", "that", "is", "it", "its",
    "it's", "well", "done", "yes", "yeah", "yep", "ok", "okay", "cool", "right", "exactly", "fine", "looks",
    "look", "very", "so", "far", "wow", "awesome", "excellent", "correct", "job", "the", "one", "this", "lovely",
    "alright", "sure", "hmm", "um", "uh", "oh", "ah", "beautiful", "there",
})
#: Of those, the ones that answer "what should I do instead?" with "as before".
AFFIRM = frozenset({"yes", "yeah", "yep", "ok", "okay", "sure", "fine", "alright", "right", "good", "correct"})
#: Phrases with a "no"/"not" in them that correct nothing.
NOT_CORRECTIONS = ("no problem", "no worries", "not bad", "no rush")
#: Words that say the robot is doing something wrong (with nothing else readable: ``unclear``).
MARKERS = frozenset({"no", "nope", "nah", "wrong", "not", "oops", "sorry", "actually", "instead", "rather",
                     "mistake", "incorrect", "meant", "don't"})
UNDO = (r"\b(put|place|set|bring|move) (it|that|this|them|the \w+( \w+)?) back\b", r"\bundo\b",
        r"\bput back\b", r"\bback where (it|you found it|it was)\b", r"\breturn it\b")
CANCEL = (r"\bnever ?mind\b", r"\bforget (it|that|about it)\b", r"\bcancel\b", r"\babort\b",
          r"\bdon't bother\b", r"\bscratch that\b", r"\bcall it off\b")
STOP = (r"\bstop\b", r"\bhalt\b", r"\bfreeze\b", r"\bdon't\b(?! (know|care|mind|think))")
PAUSE = (r"\b(a|one) (sec|second|moment|minute|bit)\b", r"\bwait\b", r"\bhold on\b", r"\bhang on\b",
         r"\bpause\b", r"\bhold it\b")
RESUME = (r"\bgo on\b", r"\bcarry on\b", r"\bcontinue\b", r"\bkeep going\b", r"\bgo ahead\b", r"\bresume\b",
          r"\bproceed\b", r"\byou can go\b", r"\bok(ay)?,? go\b", r"\bmove on\b", r"\bgo for it\b", r"\bas you were\b")
OTHER = (r"\bother\b", r"\bnot (that|this) one\b", r"\bwrong one\b", r"\banother one\b")
#: Fixed phrases dropped before a slot is looked for (their "on"/"one" would read as words).
SET_PHRASES = (*PAUSE, *RESUME, *CANCEL, *STOP, r"\bon second thought\b", r"\bmy bad\b", r"\bwrong one\b")
#: Leading words of a clause before its noun phrase ("sorry, I meant the ball").
LEAD = frozenset({"no", "nope", "nah", "sorry", "oops", "oh", "hmm", "um", "uh", "well", "actually", "rather",
                  "instead", "i", "meant", "mean", "said", "wanted", "want", "would", "prefer", "it", "was", "ok",
                  "okay", "so", "then", "please", "but", "and", "i'd", "like", "you", "should", "could", "can",
                  "make", "that", "this", "try", "do", "go", "for", "with", "just", "wrong", "ah", "yes", "now"})
TRAIL = frozenset({"instead", "please", "then", "rather", "now", "thanks", "there", "again", "actually"})
PICK_VERBS = frozenset({"take", "grab", "get", "use", "pick", "up", "choose", "lift", "fetch"})
PLACE_VERBS = frozenset({"put", "place", "move", "drop", "set", "leave", "bring", "stack", "lay", "make", "carry"})
_RELATIONS = sorted(RELATION_PHRASES, key=lambda p: -len(p.split()))

_PARSER = ReferringParser()
#: A negated noun phrase ends at its head word: "not in the green bowl in the blue one" is two
#: clauses even when the speech recogniser wrote no comma between them.
_HEADS = "one|" + "|".join(sorted(SHAPE_WORDS, key=len, reverse=True))
_NEGATED_END = re.compile(
    rf"(\bnot (?:(?:in|into|on|onto|to) )?(?:the|a|that|this) (?:[a-z]+ ){{0,2}}?(?:{_HEADS}))"
    rf"(?= (?:(?:in|into|on|onto|to) )?(?:the|a)\b)")


def correction_meaning(text: str) -> Optional[dict]:
    """What a correction means, as plain data (kind, relation, the parsed object words); None
    when `text` is no correction. Speech readers compare their hypotheses with it."""
    reading = read_interjection(text)
    if reading is None:
        return None
    words = _PARSER.parse_expression(reading.words).model_dump(exclude={"text", "unmatched"}) if reading.words else {}
    return {"kind": reading.kind, "relation": reading.relation, "words": words}


def _clean(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9',;]+", " ", text.lower().replace("!", ",").replace(".", ",")).split())


def _any(patterns: tuple[str, ...], text: str) -> bool:
    return any(re.search(p, text) for p in patterns)


def _names(expr: ReferringExpression) -> bool:
    """The phrase says which object: a colour, shape, size, side, rank or label."""
    return bool(expr.color or expr.shape or expr.size or expr.superlative or expr.spatial
                or expr.ordinal is not None or expr.number is not None)


def read_interjection(text: str, answering: bool = False) -> Optional[InterjectionReading]:
    """Read ``text`` as a correction; None when it is not one (praise, small talk).

    ``answering``: the text answers the robot's "what should I do instead?": a bare noun phrase
    is then a referent and a plain "ok" / "yes" means go on as before.
    """
    low = _clean(text)
    flat = " ".join(re.findall(r"[a-z0-9']+", low))
    if not flat or any(p in flat for p in NOT_CORRECTIONS):
        return None
    words = flat.split()
    if all(w in ACK_WORDS for w in words):
        if not answering:
            return None
        # "ok" / "that's fine" answers "what should I do instead?" with: as before. "hmm" does not.
        return InterjectionReading(kind="resume" if AFFIRM & set(words) else "unclear", text=text)
    if _any(UNDO, flat):
        return InterjectionReading(kind="undo", text=text)
    slot = _slot(low, text, marked=bool(MARKERS & set(words)) or answering)
    if slot is not None:
        return slot
    if not answering and not MARKERS & set(words) and _whole_request(flat):
        return None  # "go ahead and put the cube in the bowl" is a request, not "go on"
    for kind, patterns in (("cancel", CANCEL), ("stop", STOP), ("pause", PAUSE), ("resume", RESUME)):
        if _any(patterns, flat):
            return InterjectionReading(kind=kind, text=text)  # type: ignore[arg-type]
    if _any(OTHER, flat):
        return InterjectionReading(kind="other", text=text, slot="pick", words="the other one")
    if MARKERS & set(words) or answering:
        return InterjectionReading(kind="unclear", text=text)
    return None


def _whole_request(flat: str) -> bool:
    """The words make a request of their own: an object to move and where to put it."""
    parsed = _PARSER.parse_instruction(flat)
    return parsed.action == "place" and _names(parsed.pick) and (parsed.place is not None or parsed.region is not None)


def _slot(low: str, text: str, marked: bool) -> Optional[InterjectionReading]:
    """The last clause that names an object or a place ("not the cube, the ball" -> the ball)."""
    for phrase in SET_PHRASES:
        low = re.sub(phrase, ",", low)
    low = _NEGATED_END.sub(r"\1,", low)
    clauses = [c.split() for c in re.split(r"[,;]|\bbut\b|\s(?=not\b)", low)]
    for words in reversed([c for c in clauses if c]):
        if words[0] in ("not", "never") or words[:2] in (["don't", "put"], ["don't", "take"]):
            continue  # what it should NOT do: "not the cube", "not in the red bowl"
        reading = _clause(words, text, marked)
        if reading is not None:
            return reading
    return None


def _clause(words: list[str], text: str, marked: bool) -> Optional[InterjectionReading]:
    """One clause's slot. A whole new request ("put the ball in the bowl", "take the ball") is
    not a correction unless marked as one ("take the ball instead"); a marked one that changes
    both slots is ``unclear`` (it asks rather than guess which part was meant)."""
    placing = picking = False
    while words and (words[0] in LEAD or words[0] in PICK_VERBS or words[0] in PLACE_VERBS):
        placing = placing or words[0] in PLACE_VERBS
        picking = picking or words[0] in PICK_VERBS
        words = words[1:]
    while words and words[-1] in TRAIL:
        words = words[:-1]
    if not words:
        return None
    relation, rest = _relation_prefix(words)
    if relation is not None:
        place = _PARSER.parse_expression(" ".join(rest))
        if place.color or place.shape or (place.pronoun and place.has_content):
            return InterjectionReading(kind="destination", text=text, slot="place", words=" ".join(rest),
                                       relation=None if relation == "to" else relation)
        if place.spatial and not (place.color or place.shape):
            # "no, on the left": where the object is, not where it goes.
            return InterjectionReading(kind="referent", text=text, slot="pick",
                                       words=f"the one {' '.join(words)}")
        return None
    phrase = " ".join(words)
    # A whole placement ("I'd like the cube in the bowl", "put the ball by the bowl") is a request.
    whole = _PARSER.parse_instruction(f"put {phrase}")
    if whole.place is not None or whole.region is not None:
        return InterjectionReading(kind="unclear", text=text) if marked else None
    if picking and not marked:
        return None
    expr = _PARSER.parse_expression(phrase)
    if expr.other:
        return InterjectionReading(kind="other", text=text, slot="pick", words=phrase)
    if not _names(expr) or (expr.unknown_head and not expr.pronoun):
        return None
    if expr.shape == "bowl" or placing:
        # "no, the green bowl": bowls are where things go; "make it the green bowl".
        return InterjectionReading(kind="destination", text=text, slot="place", words=phrase)
    return InterjectionReading(kind="referent", text=text, slot="pick", words=phrase)


def _relation_prefix(words: list[str]) -> tuple[Optional[str], list[str]]:
    """('in', ['the', 'green', 'bowl']) for 'into the green bowl'; (None, words) when it does not
    start with a placement phrase; ('to', rest) for a bare 'to' (the relation follows the place)."""
    joined = " ".join(words)
    for phrase in _RELATIONS:
        if joined == phrase or joined.startswith(phrase + " "):
            return RELATION_PHRASES[phrase], words[len(phrase.split()):]
    if words[0] == "to" and len(words) > 1:
        return "to", words[1:]
    return None, words
