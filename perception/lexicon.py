"""Words people use for colours, shapes, sizes, places and order, mapped to canonical values.

Canonical values are the scene contract's names (``sim.scene.COLORS``, ``SHAPES``, ``SIZES``,
``sim.tasks.RELATIONS``). Multi-word phrases ("on top of", "to the left of") are stored with
spaces; :class:`Lexicon` matches the longest phrase first. The tables are data, not code, so a
new synonym is one line; :func:`default_lexicon` builds the instance every parser uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

#: colour word -> canonical colour (the contract's 12 plus everyday variants).
COLOR_WORDS: dict[str, str] = {
    "red": "red", "crimson": "red", "scarlet": "red", "maroon": "red", "ruby": "red",
    "green": "green", "lime": "green", "olive": "green", "emerald": "green",
    "blue": "blue", "navy": "blue", "azure": "blue", "cobalt": "blue",
    "yellow": "yellow", "gold": "yellow", "golden": "yellow", "lemon": "yellow",
    "orange": "orange", "amber": "orange", "tangerine": "orange",
    "purple": "purple", "violet": "purple", "lilac": "purple", "lavender": "purple", "indigo": "purple",
    "pink": "pink", "magenta": "pink", "rose": "pink", "fuchsia": "pink", "salmon": "pink",
    "cyan": "cyan", "turquoise": "cyan", "teal": "cyan", "aqua": "cyan", "aquamarine": "cyan",
    "brown": "brown", "tan": "brown", "beige": "brown", "chocolate": "brown", "wooden": "brown",
    "gray": "gray", "grey": "gray", "silver": "gray",
    "white": "white", "ivory": "white", "cream": "white",
    "black": "black", "dark": "black", "ebony": "black",
    "light blue": "cyan", "sky blue": "cyan", "dark blue": "blue", "dark green": "green",
    "light green": "green", "dark red": "red", "light gray": "gray", "light grey": "gray",
    "dark gray": "gray", "dark grey": "gray", "hot pink": "pink",
}

#: shape word (singular and plural) -> canonical shape.
SHAPE_WORDS: dict[str, str] = {
    "cube": "cube", "block": "cube", "box": "cube", "brick": "cube", "square": "cube", "dice": "cube",
    "die": "cube", "cuboid": "cube",
    "ball": "ball", "sphere": "ball", "marble": "ball", "orb": "ball", "globe": "ball",
    "cylinder": "cylinder", "can": "cylinder", "tube": "cylinder", "tin": "cylinder",
    "pillar": "cylinder", "post": "cylinder", "puck": "cylinder", "disc": "cylinder", "disk": "cylinder",
    "bowl": "bowl", "dish": "bowl", "basin": "bowl", "container": "bowl", "pot": "bowl", "cup": "bowl",
    "plate": "bowl",
}
SHAPE_WORDS.update({
    "cubes": "cube", "cuboids": "cube", "blocks": "cube", "boxes": "cube", "bricks": "cube", "squares": "cube",
    "balls": "ball", "spheres": "ball", "marbles": "ball", "orbs": "ball",
    "cylinders": "cylinder", "cans": "cylinder", "tubes": "cylinder", "tins": "cylinder",
    "bowls": "bowl", "dishes": "bowl", "basins": "bowl", "containers": "bowl",
})

#: size word -> canonical size (absolute); superlatives are in SUPERLATIVE_SIZE_WORDS.
SIZE_WORDS: dict[str, str] = {
    "small": "small", "little": "small", "tiny": "small", "mini": "small", "smaller": "small",
    "big": "large", "large": "large", "huge": "large", "giant": "large", "larger": "large",
    "bigger": "large", "great": "large",
    "medium": "medium", "mid-sized": "medium", "middle-sized": "medium", "medium-sized": "medium",
    "mid size": "medium", "mid sized": "medium", "medium sized": "medium", "average": "medium",
    "normal": "medium", "regular": "medium",
}
#: superlatives pick the extreme object rather than an absolute size class.
SUPERLATIVE_SIZE_WORDS: dict[str, str] = {
    "smallest": "small", "tiniest": "small", "littlest": "small",
    "biggest": "large", "largest": "large",
}

#: spatial modifiers of a single object -> canonical spatial word. The frame (whose left) is
#: decided by the grounder from the scene's viewpoint; these are just the words.
SPATIAL_WORDS: dict[str, str] = {
    "left": "left", "right": "right", "leftmost": "leftmost", "rightmost": "rightmost",
    "far left": "leftmost", "far right": "rightmost", "left-most": "leftmost", "right-most": "rightmost",
    "front": "front", "frontmost": "front", "back": "back", "rear": "back", "backmost": "back",
    "middle": "middle", "center": "middle", "centre": "middle", "central": "middle",
    "nearest": "nearest", "closest": "nearest", "near": "nearest", "closer": "nearest",
    "farthest": "farthest", "furthest": "farthest", "farther": "farthest", "further": "farthest",
}

#: phrases that place the picked object relative to another -> contract relation.
RELATION_PHRASES: dict[str, str] = {
    "in": "in", "into": "in", "inside": "in", "inside of": "in", "within": "in",
    "on": "on", "onto": "on", "on top of": "on", "atop": "on", "upon": "on", "over": "on",
    "on to": "on",
    "left of": "left_of", "to the left of": "left_of", "on the left of": "left_of",
    "on the left side of": "left_of", "to the left side of": "left_of", "left side of": "left_of",
    "right of": "right_of", "to the right of": "right_of", "on the right of": "right_of",
    "on the right side of": "right_of", "to the right side of": "right_of", "right side of": "right_of",
    "in front of": "in_front_of", "before": "in_front_of", "ahead of": "in_front_of",
    "behind": "behind", "in back of": "behind", "at the back of": "behind", "back of": "behind",
    "next to": "next_to", "beside": "next_to", "besides": "next_to", "near": "next_to",
    "by": "next_to", "alongside": "next_to", "close to": "next_to", "near to": "next_to",
    "nearby": "next_to", "by the side of": "next_to", "close by": "next_to", "right next to": "next_to",
    "between": "between", "in between": "between", "in-between": "between",
}

#: Table regions ("on the left side of the table", "in the front right corner"): the words a
#: region phrase is made of (perception/table_regions.py reads them). Where on the table each
#: word points, in the speaker's frame; "top" / "bottom" are the far / near edge as a person
#: sees a table in front of them.
REGION_SIDE_WORDS: dict[str, str] = {
    "left": "left", "left-hand": "left", "leftmost": "left", "right": "right", "right-hand": "right",
    "rightmost": "right",
    "front": "front", "near": "front", "nearer": "front", "bottom": "front",
    "back": "back", "rear": "back", "far": "back", "top": "back", "farther": "back",
    "middle": "middle", "center": "middle", "centre": "middle", "central": "middle",
}
#: Nouns that make a phrase a table region rather than a side of an object.
REGION_NOUNS: frozenset[str] = frozenset({
    "table", "table's", "tabletop", "corner", "side", "half", "edge", "end", "part", "area", "section",
})
#: Prepositions that open a region phrase.
REGION_PREPOSITIONS: frozenset[str] = frozenset({
    "on", "in", "at", "to", "into", "onto", "towards", "toward", "near", "along", "over",
})

#: phrases that qualify a referent by another object ("the cube nearest to the bowl"); these are
#: never placement relations. Value: anchor relation used by the grounder.
ANCHOR_PHRASES: dict[str, str] = {
    "nearest to": "nearest", "closest to": "nearest", "nearest the": "nearest", "closest the": "nearest",
    "farthest from": "farthest", "furthest from": "farthest", "farthest away from": "farthest",
    "furthest away from": "farthest",
}

#: ordinal words -> 1-based rank; -1 means "last".
ORDINAL_WORDS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "last": -1,
    "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6,
}
#: number words -> value, for "number two" / "two" / "2".
NUMBER_WORDS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10,
}

#: verbs that only pick (no placement) and verbs that pick-and-place.
PICK_VERBS: tuple[str, ...] = (
    "pick up", "pick", "grab", "take", "lift", "get", "grasp", "fetch", "hold", "raise", "collect",
    "pickup", "select", "choose", "use", "give", "hand over", "pass",
)
PLACE_VERBS: tuple[str, ...] = (
    "put", "place", "move", "set", "drop", "stack", "lay", "bring", "position", "transfer", "push",
    "slide", "carry", "shift", "relocate", "insert", "load", "stick", "toss", "pop", "throw", "plop",
    "dump", "deposit", "stash", "leave", "rest", "park", "tuck", "plonk",
)

#: generic nouns that name "an object" without saying its shape.
GENERIC_NOUNS: frozenset[str] = frozenset({
    "one", "ones", "thing", "things", "object", "objects", "item", "items", "piece", "toy", "shape",
    "it", "that", "this", "them", "stuff",
})

#: words that carry no referring content (articles, politeness, fillers, helper prepositions).
STOP_WORDS: frozenset[str] = frozenset({
    "the", "a", "an", "please", "can", "could", "would", "you", "i", "me", "robot", "now", "and",
    "then", "up", "down", "there", "here", "of", "to", "side", "is", "which", "who", "with", "its",
    "my", "your", "for", "from", "at", "just", "kindly", "go", "ahead", "want", "like", "need",
    "let", "lets", "let's", "us", "so", "thanks", "thank", "ok", "okay", "um", "uh", "hmm", "mean",
    "meant", "colour", "color", "colored", "coloured", "sized", "size", "shaped", "on", "in",
    "well", "yes", "yeah", "sure", "some", "any", "really", "very", "bit", "little bit", "more",
    "most", "again", "away", "should", "will", "be", "do", "that's", "it's", "one's", "i'd",
    "hand", "also", "table", "over", "edge", "no", "nope", "oh", "sorry", "actually", "instead",
    "mind", "goes", "go", "belongs", "should", "must", "gently", "carefully", "quickly", "slowly",
    "thing's", "it'd", "we", "okay,", "hey", "hi", "hello", "there's", "could", "try", "able",
})


@dataclass(frozen=True)
class Token:
    """One lexicon match: the surface text, its category and canonical value."""

    text: str
    kind: str  # color | shape | size | superlative | spatial | relation | anchor | ordinal | number | generic | stop | verb | unknown
    value: Optional[str] = None


@dataclass(frozen=True)
class Lexicon:
    """Longest-match tokenizer over the word tables; categories are tried in ``order``."""

    tables: dict[str, dict[str, str]] = field(default_factory=dict)
    max_phrase_words: int = 5

    def tokenize(self, text: str, *, kinds: Optional[tuple[str, ...]] = None) -> list[Token]:
        """Split ``text`` into tokens, matching the longest known phrase at each position.

        ``kinds`` restricts which tables are consulted (others fall through to single words).
        Unknown words become ``Token(kind="unknown")``; numbers become ``kind="number"``.
        """
        words = normalize(text).split()
        tokens: list[Token] = []
        i = 0
        while i < len(words):
            match = self._longest(words, i, kinds)
            if match is None:
                word = words[i]
                if word.isdigit():
                    tokens.append(Token(word, "number", word))
                else:
                    tokens.append(Token(word, "unknown", None))
                i += 1
                continue
            n, kind, value = match
            tokens.append(Token(" ".join(words[i:i + n]), kind, value))
            i += n
        return tokens

    def _longest(self, words: list[str], start: int, kinds: Optional[tuple[str, ...]]) -> Optional[tuple[int, str, str]]:
        for n in range(min(self.max_phrase_words, len(words) - start), 0, -1):
            phrase = " ".join(words[start:start + n])
            for kind, table in self.tables.items():
                if kinds is not None and kind not in kinds:
                    continue
                if phrase in table:
                    return n, kind, table[phrase]
        return None


def normalize(text: str) -> str:
    """Lower-case, keep letters/digits/hyphens/apostrophes, '#2' -> 'number 2', collapse spaces."""
    text = text.lower().replace("#", " number ")
    text = re.sub(r"[^a-z0-9'\- ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def default_lexicon() -> Lexicon:
    """The lexicon the parser uses. Table order is the tie-break when a phrase is in several
    tables: anchors ("nearest to") before spatial words, relations before stop words."""
    tables: dict[str, dict[str, str]] = {
        "anchor": ANCHOR_PHRASES,
        "verb": {v: ("place" if v in PLACE_VERBS else "pick") for v in (*PICK_VERBS, *PLACE_VERBS)},
        "color": COLOR_WORDS,
        "shape": SHAPE_WORDS,
        "superlative": SUPERLATIVE_SIZE_WORDS,
        "size": SIZE_WORDS,
        "relation": RELATION_PHRASES,
        "spatial": SPATIAL_WORDS,
        "ordinal": {k: str(v) for k, v in ORDINAL_WORDS.items()},
        "number": {k: str(v) for k, v in NUMBER_WORDS.items() if k != "one"},
        "generic": {w: w for w in GENERIC_NOUNS},
        "stop": {w: w for w in STOP_WORDS},
    }
    return Lexicon(tables=tables)
