"""Parse an instruction into what to pick, the placement relation, and where to put it.

"put the cube nearest to the bowl on the blue cube" ->
    pick  = ReferringExpression(shape=cube, anchor_relation=nearest, anchor=(shape=bowl))
    relation = "on"
    place = ReferringExpression(color=blue, shape=cube)

The parser is a small deterministic chunker over :mod:`perception.lexicon` tokens, not a
statistical model: every word either maps to an attribute, is a known filler, or is reported
in ``unmatched`` so the agent can say what it did not understand ("elephant").
"""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import BaseModel, Field

from perception.lexicon import Lexicon, Token, default_lexicon, normalize
from perception.table_regions import find_region

#: words that say "not the one we were talking about" ("the other one", "another").
_OTHER_WORDS = frozenset({"other", "another", "different", "else"})
#: negation in answers ("not the left one").
_NEGATIONS = frozenset({"not", "isn't", "don't", "never"})
#: "to"/"towards" followed by an object is a placement with an implicit relation.
_TO_WORDS = frozenset({"to", "towards", "toward"})
#: token kinds that name the object itself (a head noun or something that can stand for one).
_HEAD_KINDS = frozenset({"shape", "generic", "unknown", "color"})


class ReferringExpression(BaseModel):
    """What a noun phrase says about one object. ``None`` / empty = not mentioned."""

    text: str = ""
    color: Optional[str] = None
    shape: Optional[str] = None
    size: Optional[str] = Field(None, description="absolute size class: small | medium | large")
    superlative: Optional[str] = Field(None, description="'small' for smallest, 'large' for biggest")
    spatial: list[str] = Field(default_factory=list, description="left|right|leftmost|rightmost|front|back|middle|"
                               "nearest|farthest (to the viewer), nearest_robot|farthest_robot (to the robot)")
    ordinal: Optional[int] = Field(None, description="1-based rank ('second' -> 2); -1 = last")
    number: Optional[int] = Field(None, description="a label the person read ('number 2', '#2', '2')")
    anchor_relation: Optional[str] = Field(None, description="nearest|farthest|next_to|left_of|right_of|in_front_of|behind|in|on")
    anchor: Optional["ReferringExpression"] = None
    pronoun: bool = Field(False, description="a generic head: 'one', 'it', 'thing'")
    other: bool = Field(False, description="'the other one': not the previously chosen object")
    negated: bool = Field(False, description="'not the left one'")
    unmatched: list[str] = Field(default_factory=list, description="words that matched no lexicon entry")

    @property
    def has_content(self) -> bool:
        """True if the phrase constrains the object at all."""
        return any((self.color, self.shape, self.size, self.superlative, self.spatial,
                    self.ordinal is not None, self.number is not None, self.anchor, self.other))

    @property
    def unknown_head(self) -> bool:
        """True if the head noun is a word we do not know ("the purple elephant")."""
        return self.shape is None and not self.pronoun and bool(self.unmatched)

    def all_unmatched(self) -> list[str]:
        return self.unmatched + (self.anchor.all_unmatched() if self.anchor else [])


class ParsedInstruction(BaseModel):
    """An instruction split into pick expression, relation and place expression."""

    text: str
    action: Literal["pick", "place"]
    pick: ReferringExpression
    relation: Optional[str] = Field(None, description="in|on|left_of|right_of|in_front_of|behind|next_to|between|region, or None")
    place: Optional[ReferringExpression] = None
    place2: Optional[ReferringExpression] = Field(None, description="the second reference of 'between'")
    region: Optional[str] = Field(None, description="table region of relation 'region' (sim.relations.REGIONS)")

    @property
    def unmatched(self) -> list[str]:
        return [w for e in (self.pick, self.place, self.place2) if e is not None for w in e.all_unmatched()]


class ReferringParser:
    """Turns text into :class:`ParsedInstruction` / :class:`ReferringExpression`."""

    def __init__(self, lexicon: Optional[Lexicon] = None) -> None:
        self.lexicon = lexicon or default_lexicon()

    # ---- public API -------------------------------------------------------------------
    def parse_instruction(self, text: str) -> ParsedInstruction:
        """Parse a full command ("put the red cube in the green bowl").

        Pick verbs ("pick up", "grab") take no placement unless it is a "to ..." phrase ("take
        the cube to the bowl"); "pick up the cube and put it in the bowl" reads the pick phrase
        from the first clause and the placement from the second.
        """
        tokens = self.lexicon.tokenize(_strip_modals(text))
        region = self._region(text, tokens)
        if region is not None:
            return region
        verbs = [i for i, t in enumerate(tokens) if t.kind == "verb"]
        verb = tokens[verbs[0]].value if verbs else None
        body = tokens[verbs[0] + 1:] if verbs else tokens
        later = [i for i in verbs[1:] if tokens[i].value == "place"]
        if verb == "pick" and later:
            pick_tokens, rest = tokens[verbs[0] + 1:later[0]], tokens[later[0] + 1:]
            while pick_tokens and pick_tokens[-1].text in ("and", "then"):
                pick_tokens = pick_tokens[:-1]
            split = self._placement_split(rest, relations=True)
            if split is not None:
                return self._placed(text, self._expression(pick_tokens), rest, split)
        split = self._placement_split(body, relations=verb != "pick")
        if split is None:
            return ParsedInstruction(text=text, action="pick", pick=self._expression(body))
        return self._placed(text, self._expression(body[:split[0]]), body, split)

    def _placed(self, text: str, pick: ReferringExpression, body: list[Token],
                split: tuple[int, Optional[str], int]) -> ParsedInstruction:
        at, relation, skip = split
        tail = body[at + skip:]
        if relation == "between":  # "between the red bowl and the blue cube": two references
            two = _split_and(tail)
            if two is not None:
                return ParsedInstruction(text=text, action="place", pick=pick, relation=relation,
                                         place=self._expression(two[0]), place2=self._expression(two[1]))
            relation = "next_to"  # one object named: beside it is the nearest reading
        place = self._expression(tail)
        if relation is None:  # "move the cube to the bowl": bowls are filled, others approached
            relation = "in" if place.shape == "bowl" else "next_to"
        return ParsedInstruction(text=text, action="place", pick=pick, relation=relation, place=place)

    def _region(self, text: str, tokens: list[Token]) -> Optional[ParsedInstruction]:
        """A placement into a part of the table ("put the cube in the front right corner of the
        table"), or None. Only after a place verb: "pick up the cube in the middle" stays a pick."""
        words = _strip_modals(text).split()
        found = find_region(words)
        if found is None or not any(t.kind == "verb" and t.value == "place" for t in tokens):
            return None
        head = self.lexicon.tokenize(" ".join(words[:found[0]]))
        verbs = [i for i, t in enumerate(head) if t.kind == "verb"]
        if not verbs:
            return None
        later = [i for i in verbs[1:] if head[i].value == "place"]
        pick_tokens = head[verbs[0] + 1:later[0]] if head[verbs[0]].value == "pick" and later else head[verbs[0] + 1:]
        while pick_tokens and pick_tokens[-1].text in ("and", "then"):
            pick_tokens = pick_tokens[:-1]
        if not _names_object(pick_tokens):
            return None
        return ParsedInstruction(text=text, action="place", pick=self._expression(pick_tokens), relation="region",
                                 region=found[1])

    def parse_expression(self, text: str) -> ReferringExpression:
        """Parse a noun phrase or a short answer ("the left one", "number 2", "the blue one")."""
        return self._expression(self.lexicon.tokenize(_strip_modals(text)))

    # ---- internals --------------------------------------------------------------------
    def _placement_split(self, body: list[Token], relations: bool = True) -> Optional[tuple[int, Optional[str], int]]:
        """Find (index, relation, tokens to skip) of the placement phrase, scanning from the end.

        The last relation phrase whose tail names an object wins, so relation words inside the
        pick phrase ("the cube next to the bowl on the plate") and trailing modifiers ("in the
        bowl on the left": 'left' names no object) are not mistaken for the placement.
        ``relations=False`` accepts only "to ..." phrases (after pick verbs).
        """
        for i in range(len(body) - 1, 0, -1):
            tok = body[i]
            is_to = tok.text in _TO_WORDS
            if not is_to and (tok.kind != "relation" or not relations):
                continue
            if not _names_object(body[i + 1:]) or not _names_object(body[:i]):
                continue
            return i, (tok.value if tok.kind == "relation" else None), 1
        return None

    def _expression(self, tokens: list[Token]) -> ReferringExpression:
        text = " ".join(t.text for t in tokens)
        split = self._anchor_split(tokens)
        if split is not None:
            at, relation = split
            head = self._head(tokens[:at], text)
            return head.model_copy(update={"anchor_relation": relation,
                                           "anchor": self._expression(tokens[at + 1:])})
        return self._head(tokens, text)

    def _anchor_split(self, tokens: list[Token]) -> Optional[tuple[int, str]]:
        """First anchor phrase ("nearest to", "next to") that is followed by an object."""
        for i, tok in enumerate(tokens):
            if tok.kind == "anchor" and _names_object(tokens[i + 1:]):
                return i, str(tok.value)
            if tok.kind == "relation" and i > 0 and _names_object(tokens[i + 1:]):
                return i, str(tok.value)
        return None

    def _head(self, tokens: list[Token], text: str) -> ReferringExpression:
        fields: dict = {"text": text, "spatial": [], "unmatched": []}
        prev: Optional[Token] = None
        for k, tok in enumerate(tokens):
            party = _party(tokens[k + 1:k + 3]) if tok.kind in ("anchor", "spatial") else None
            if party is not None and tok.value in ("nearest", "farthest"):
                # "the block closest to me" / "the one farthest from you": nearness to a person.
                word = f"{tok.value}_robot" if party == "robot" else str(tok.value)
                if word not in fields["spatial"]:
                    fields["spatial"].append(word)
            elif tok.kind == "color" and fields.get("color") is None:
                fields["color"] = tok.value
            elif tok.kind == "shape" and fields.get("shape") is None:
                fields["shape"] = tok.value
            elif tok.kind == "size":
                fields["size"] = tok.value
            elif tok.kind == "superlative":
                fields["superlative"] = tok.value
            elif tok.kind == "spatial" and tok.value not in fields["spatial"]:
                fields["spatial"].append(tok.value)
            elif tok.kind == "ordinal":
                fields["ordinal"] = int(str(tok.value))
            elif tok.kind == "number" or (tok.kind == "generic" and prev is not None and prev.text == "number"):
                fields["number"] = 1 if tok.kind == "generic" else int(str(tok.value))
            elif tok.kind == "generic":
                fields["pronoun"] = True
            elif tok.text in _OTHER_WORDS:
                fields["other"] = True
            elif tok.text in _NEGATIONS:
                fields["negated"] = True
            elif tok.kind == "unknown" and tok.text not in ("number", "num", "no.") and not _is_filler(tok.text):
                fields["unmatched"].append(tok.text)
            prev = tok
        return ReferringExpression(**fields)


#: Words for the two people at the table: the speaker ("me") and the robot ("you").
_SPEAKER_WORDS = frozenset({"me", "us", "myself"})
_ROBOT_WORDS = frozenset({"you", "yourself", "robot"})


def _party(tokens: list[Token]) -> Optional[str]:
    """'speaker' or 'robot' when the words right after an anchor name a person, not an object."""
    words = [t.text for t in tokens if t.text not in ("the", "to", "from")]
    if not words:
        return None
    return "speaker" if words[0] in _SPEAKER_WORDS else ("robot" if words[0] in _ROBOT_WORDS else None)


def _split_and(tokens: list[Token]) -> Optional[tuple[list[Token], list[Token]]]:
    """'the red bowl and the blue cube' -> the two phrases; None unless both name an object."""
    for i, tok in enumerate(tokens):
        if tok.text == "and" and _names_object(tokens[:i]) and _names_object(tokens[i + 1:]):
            return tokens[:i], tokens[i + 1:]
    return None


def _names_object(tokens: list[Token]) -> bool:
    """True if ``tokens`` contain something that can name an object (noun, colour, 'one')."""
    return any(t.kind in _HEAD_KINDS and not _is_filler(t.text) for t in tokens)


def _is_filler(word: str) -> bool:
    """Inflections of verbs and other glue the tables do not list ("please", "picking")."""
    return word.endswith("ing") or word in _OTHER_WORDS or word in _NEGATIONS or word in _TO_WORDS


def _strip_modals(text: str) -> str:
    """'can you pick ...' -> 'pick ...' so the modal 'can' is not read as a tin can."""
    return re.sub(r"\b(can|could|would|will)\s+(you|we|i|u)\b", " ", normalize(text))
