"""What the robot says and how it reads what the person says back.

Questions name what tells the options apart (colour, shape, size, else position as the person
sees it); answers ("the left one", "the second one", "the blue one", "yes", "no, the other
one", "never mind") are read against the options of the question that was asked.

Spatial words follow the scene's viewpoint (see sim/scene.py): for ``user`` the person stands
across the table, so their right is the robot's left (+y) and "nearer to you" is +x; for
``robot`` right is -y and "nearer" is -x (towards the robot).
"""

from __future__ import annotations

import re
from typing import Literal, Optional, Sequence

from pydantic import BaseModel, ConfigDict, Field

from perception.types import PerceivedObject

Viewpoint = Literal["user", "robot"]

#: Everyday words -> the scene vocabulary (sim/scene.py COLORS, SHAPES, SIZES).
COLOR_WORDS: dict[str, str] = {
    **{c: c for c in ("red", "green", "blue", "yellow", "orange", "purple", "pink", "cyan", "brown", "gray", "white", "black")},
    "grey": "gray", "violet": "purple", "magenta": "pink", "turquoise": "cyan", "teal": "cyan",
}
SHAPE_WORDS: dict[str, str] = {
    "cube": "cube", "cubes": "cube", "block": "cube", "blocks": "cube", "box": "cube",
    "ball": "ball", "balls": "ball", "sphere": "ball", "orb": "ball",
    "cylinder": "cylinder", "can": "cylinder", "tube": "cylinder", "puck": "cylinder",
    "bowl": "bowl", "dish": "bowl", "basin": "bowl",
}
#: Size words are relative ("the big one" = the biggest of the options), except "medium".
SIZE_WORDS: dict[str, str] = {
    "small": "smallest", "smaller": "smallest", "smallest": "smallest", "little": "smallest", "tiny": "smallest",
    "medium": "medium", "mid-sized": "medium",
    "large": "largest", "larger": "largest", "largest": "largest", "big": "largest", "bigger": "largest",
    "biggest": "largest",
}
SIZE_RANK: dict[str, int] = {"small": 0, "medium": 1, "large": 2}
SPATIAL_WORDS: dict[str, str] = {
    "left": "left", "leftmost": "left", "right": "right", "rightmost": "right",
    "middle": "middle", "center": "middle", "centre": "middle", "between": "middle",
    "front": "near", "near": "near", "nearer": "near", "nearest": "near", "closer": "near", "closest": "near",
    "back": "far", "far": "far", "farther": "far", "further": "far", "farthest": "far", "behind": "far",
}
#: Metres an object must stand out along an axis for "left"/"nearer" to single it out.
SPATIAL_MARGIN_M = 0.02
ORDINALS: dict[str, int] = {"first": 0, "second": 1, "third": 2, "fourth": 3, "1st": 0, "2nd": 1, "3rd": 2, "4th": 3, "last": -1}
NUMBERS: dict[str, int] = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
NONE_PHRASES = ("none", "neither")
CANCEL_PHRASES = ("never mind", "nevermind", "cancel", "stop", "forget it", "forget about it", "abort", "don't bother", "nothing")
YES_WORDS = {"yes", "yeah", "yep", "yup", "sure", "correct", "exactly", "affirmative", "ok", "okay", "right"}
NO_WORDS = {"no", "nope", "nah", "wrong", "not"}

ReadingKind = Literal["choose", "narrow", "cancel", "other", "elsewhere", "unusable"]


class AnswerReading(BaseModel):
    """How an answer was read: which options remain, or a cancel/'the other one'."""

    model_config = ConfigDict(frozen=True)

    kind: ReadingKind
    picks: list[int] = Field(default_factory=list, description="PerceivedObject.index values still meant")
    why: str = ""
    named: Optional[str] = Field(None, description="for 'elsewhere': the object the answer names instead, "
                                 "in plain words ('the yellow cube')")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9'\-]+", text.lower())


def rightness(obj: PerceivedObject, viewpoint: Viewpoint) -> float:
    """Metres to the person's right (user viewpoint) or the robot's right (robot viewpoint)."""
    return obj.position[1] if viewpoint == "user" else -obj.position[1]


def nearness(obj: PerceivedObject, viewpoint: Viewpoint) -> float:
    """Metres towards whoever's viewpoint the words use (person: +x; robot: -x)."""
    return obj.position[0] if viewpoint == "user" else -obj.position[0]


def noun(obj: PerceivedObject) -> str:
    return f"{obj.color} {obj.shape}"


def _article(phrase: str) -> str:
    return ("an " if phrase[:1] in "aeiou" else "a ") + phrase


# ----------------------------------------------------------------------------- wording


def choice_phrases(options: Sequence[PerceivedObject], viewpoint: Viewpoint) -> list[str]:
    """One short phrase per option that tells it from the others, in the options' order.

    Perception's ``describe_choices`` picks the attribute (colour, shape, size, then left/right
    or front/back in the speaker's frame); when every option has the same noun, later options
    are shortened to "the one on the right" so the question stays short.
    """
    from perception.distinguish import describe_choices

    phrases = describe_choices(list(options), viewpoint)
    first = noun(options[0])
    if len({noun(o) for o in options}) == 1 and all(p.startswith(f"the {first} ") for p in phrases):
        phrases = [phrases[0]] + [f"the one {p[len(f'the {first} '):]}" for p in phrases[1:]]
    return phrases


#: Relation name (sim/tasks.py) -> the words for it.
RELATION_WORDS: dict[str, str] = {
    "in": "in", "on": "on", "left_of": "to the left of", "right_of": "to the right of",
    "in_front_of": "in front of", "behind": "behind", "next_to": "next to", "between": "between",
}
#: Table region (sim.relations.REGIONS) -> how the robot says it.
REGION_WORDS: dict[str, str] = {
    "left_side": "on the left side of the table", "right_side": "on the right side of the table",
    "middle": "in the middle of the table", "front": "at the front of the table", "back": "at the back of the table",
    "front_left": "in the front left corner of the table", "front_right": "in the front right corner of the table",
    "back_left": "in the back left corner of the table", "back_right": "in the back right corner of the table",
}


def placement_words(relation: str, place: Optional[str], place2: Optional[str] = None,
                    region: Optional[str] = None) -> str:
    """Where a placement puts the object, in words: 'to the left of the green bowl', 'between the
    red bowl and the blue cube', 'in the front right corner of the table'."""
    if relation == "region" and region is not None:
        return REGION_WORDS.get(region, f"in the {region.replace('_', ' ')} of the table")
    words = f"{RELATION_WORDS.get(relation, relation)} {place}"
    return f"{words} and {place2}" if relation == "between" and place2 is not None else words


def understood(parse: dict[str, Optional[str]]) -> str:
    """What the robot took the request to be, from the grounder's parse: 'put the block in the
    bowl', 'pick up the red cube' (said when it gives up, so the person knows what to fix)."""
    pick = parse.get("pick") or "it"
    if parse.get("action") != "place" or not (parse.get("place") or parse.get("relation") == "region"):
        return f"pick up {pick}"
    return f"put {pick} {placement_words(parse.get('relation') or 'in', parse.get('place'), parse.get('place2'), parse.get('region'))}"


def which_question(options: Sequence[PerceivedObject], viewpoint: Viewpoint, attempt: int = 1,
                   relation: Optional[str] = None) -> str:
    """'Do you mean the red cube on the left or the one on the right?' (rephrased on attempt 2).

    With ``relation`` the options are places: 'Which bowl should I put it in: the yellow, the blue
    or the green one?' when colour tells them apart, else 'Should I put it in the green bowl on
    the left or the one on the right?'. The question comes first so a listener hears what kind it is.
    """
    phrases = choice_phrases(options, viewpoint)
    listed = ", ".join(phrases[:-1]) + " or " + phrases[-1]
    if attempt <= 1:
        shapes, colors = {o.shape for o in options}, [o.color for o in options]
        if relation is not None and len(shapes) == 1 and len(set(colors)) == len(colors):
            # "Which bowl should I put it in: the yellow, the blue or the green one?"
            named = [f"the {c}" for c in colors[:-1]]
            return (f"Which {options[0].shape} should I put it {RELATION_WORDS.get(relation, relation)}: "
                    f"{', '.join(named)} or the {colors[-1]} one?")
        if relation is not None:
            return f"Should I put it {RELATION_WORDS.get(relation, relation)} {listed}?"
        return f"Do you mean {listed}?"
    keys = " or ".join(f"'{_answer_key(p, phrases)}'" for p in phrases)
    return f"Which one should I take: {listed}? Sorry, I didn't get that; you can say {keys}."


def between_question(first: PerceivedObject, options: Sequence[PerceivedObject], scene_objects: Sequence[PerceivedObject],
                     viewpoint: Viewpoint, attempt: int = 1) -> str:
    """The second reference of "between" is ambiguous: 'Between the red bowl and which cube: the
    yellow or the blue one?' (colour tells them apart), else 'Between the red bowl and the cube on
    the left or the one on the right?'."""
    anchor = describe(first, scene_objects, viewpoint)
    colors = [o.color for o in options]
    if attempt <= 1 and len({o.shape for o in options}) == 1 and len(set(colors)) == len(colors):
        named = ", ".join(f"the {c}" for c in colors[:-1])
        return f"Between {anchor} and which {options[0].shape}: {named} or the {colors[-1]} one?"
    phrases = choice_phrases(options, viewpoint)
    listed = ", ".join(phrases[:-1]) + " or " + phrases[-1]
    if attempt <= 1:
        return f"Between {anchor} and {listed}?"
    keys = " or ".join(f"'{_answer_key(p, phrases)}'" for p in phrases)
    return f"Between {anchor} and which one: {listed}? Sorry, I didn't get that; you can say {keys}."


def confirm_question(obj: PerceivedObject, others: Sequence[PerceivedObject], viewpoint: Viewpoint,
                     attempt: int = 1, said: Optional[str] = None) -> str:
    """Yes/no question proposing one object ('Do you mean the orange cube on the left?').

    ``said``: what the person said ('white cube') when the image disagrees with it: 'I see a
    white cylinder, not a white cube. Is that the one you mean?'
    """
    phrase = describe(obj, others, viewpoint)
    if attempt <= 1 and said:
        seen = _article(phrase.removeprefix("the "))  # "a white cylinder on the left"
        return f"I see {seen}, not {_article(said)}. Is that the one you mean?"
    if attempt <= 1:
        return f"Do you mean {phrase}?"
    return f"Should I take {phrase}? Sorry, I didn't get that; please say yes or no."


def describe(obj: PerceivedObject, others: Sequence[PerceivedObject], viewpoint: Viewpoint) -> str:
    """Shortest description that picks ``obj`` out among ``others`` (which may include it)."""
    from perception.distinguish import describe_choices

    same = [o for o in others if o.index != obj.index and noun(o) == noun(obj)]
    if not same:
        return f"the {noun(obj)}"
    return describe_choices([obj, *same], viewpoint)[0]


def _answer_key(phrase: str, others: Sequence[str]) -> str:
    """The word a person could answer with: 'the one on the right' -> 'right'.

    The first place, colour, size or shape word of ``phrase`` that no other phrase has.
    """
    taken = {w for other in others if other != phrase for w in _words(other)}
    for table in (SPATIAL_WORDS, COLOR_WORDS, SIZE_WORDS, SHAPE_WORDS):
        for word in _words(phrase):
            if word in table and word not in taken:
                return word
    return phrase


#: Words that already determine a noun phrase: no article goes before them ("another red cube").
DETERMINERS = ("another", "any", "some", "other", "my", "your", "this", "that", "these", "those", "two", "three")


def cannot_see_message(what: str) -> str:
    """'I can't see a purple elephant, so I won't move.' / '... see another red cube ...'.

    A leading article is replaced by the right one (a/an); a phrase that starts with its own
    determiner ('another', 'any', ...) keeps it and gets none.
    """
    what = re.sub(r"^(the|a|an)\s+", "", " ".join(what.strip().lower().split()))
    phrase = what if what.split(" ", 1)[0] in DETERMINERS else _article(what)
    return f"I can't see {phrase}, so I won't move."


# ----------------------------------------------------------------------------- reading

#: Words after which a pick phrase describes another object ("the cube next to the red ball").
ANCHOR_WORDS = {"next", "near", "beside", "by", "of", "behind", "between", "closest", "nearest", "under", "on", "in"}


def said_attributes(pick_words: str) -> tuple[Optional[str], Optional[str]]:
    """Colour and shape the pick phrase names for the object itself (not for an anchor)."""
    words: list[str] = []
    for w in pick_words.lower().replace(",", " ").split():
        if w in ANCHOR_WORDS:
            break
        words.append(w)
    color = next((COLOR_WORDS[w] for w in words if w in COLOR_WORDS), None)
    shape = next((SHAPE_WORDS[w] for w in words if w in SHAPE_WORDS), None)
    return color, shape



def is_cancel(text: str) -> bool:
    low = " ".join(_words(text))
    return any(re.search(rf"\b{re.escape(p)}\b", low) for p in CANCEL_PHRASES)


def is_other(text: str) -> bool:
    """'no, the other one' / 'the other one' / 'not that one'."""
    low = " ".join(_words(text))
    return bool(re.search(r"\bother\b|\bnot (that|this) one\b|\bwrong one\b", low))


def interpret_answer(text: str, options: Sequence[PerceivedObject], viewpoint: Viewpoint,
                     yes_no: bool = False, fallback: Sequence[PerceivedObject] = ()) -> AnswerReading:
    """Read ``text`` against the ``options`` named by the question (in the order named).

    For a yes/no question ``options[0]`` is the proposed object: 'yes' chooses it, 'no' /
    'the other one' exclude it (kind ``other``). 'none of those' / 'neither' exclude every
    option. Attribute, position, ordinal and number words filter the options; one left ->
    ``choose``, fewer but several -> ``narrow``. When the words fit no option they are tried on
    ``fallback`` (the other objects the instruction could mean: "no, I meant the blue one").
    A number ("2", "number two") is the option's position in the question, as numbered on the
    question's picture (``agent.question_image``).
    """
    words = _words(text)
    if is_cancel(text):
        return AnswerReading(kind="cancel", why="the person called it off")
    yes_said = yes_no and bool(YES_WORDS & set(words)) and not _spatial_right(words)
    remaining, used = _filter(words, list(options), list(options), viewpoint, yes_said)
    if used and not remaining and fallback:
        pool = [o for o in fallback if o.index not in {p.index for p in options}]
        remaining, _ = _filter(words, pool, pool, viewpoint, yes_said)
        if len(remaining) == 1:
            return AnswerReading(kind="choose", picks=[remaining[0].index], why="the person named another object")
        remaining = []
    if not used and any(w in NONE_PHRASES for w in words):
        return AnswerReading(kind="other", picks=[], why="the person ruled out every option")
    if not used and (is_other(text) or (yes_no and NO_WORDS & set(words))):
        if not yes_no:
            return AnswerReading(kind="unusable", why="'the other one' does not say which of several")
        return AnswerReading(kind="other", picks=[o.index for o in options[1:]], why="the person ruled out the proposed object")
    if not used and yes_said:
        return AnswerReading(kind="choose", picks=[options[0].index], why="the person said yes")
    named = named_object(words)
    if used and not remaining and named is not None:
        return AnswerReading(kind="elsewhere", named=named, why="the person named something outside the options")
    if not used or not remaining:
        return AnswerReading(kind="unusable", why="nothing in the answer picks out one of the options")
    kind: ReadingKind = "choose" if len(remaining) == 1 else ("narrow" if len(remaining) < len(options) else "unusable")
    return AnswerReading(kind=kind, picks=[o.index for o in remaining], why=f"matched {len(remaining)} option(s)")


def named_object(words: list[str]) -> Optional[str]:
    """The object an answer names by its own words ("none of those, I meant the big yellow
    block" -> "the big yellow cube"), or None when it names no colour or shape."""
    color = next((COLOR_WORDS[w] for w in words if w in COLOR_WORDS), None)
    shape = next((SHAPE_WORDS[w] for w in words if w in SHAPE_WORDS), None)
    if color is None and shape is None:
        return None
    size = next((w for w in words if w in SIZE_WORDS), None)  # as said: "big" stays relative
    return "the " + " ".join(w for w in (size, color, shape or "one") if w)


def _filter(words: list[str], pool: list[PerceivedObject], ordered: list[PerceivedObject],
            viewpoint: Viewpoint, yes_said: bool) -> tuple[list[PerceivedObject], bool]:
    """Apply every attribute/position/ordinal/number word to ``pool``; also say if any applied."""
    remaining, used = list(pool), False
    for attr, table in (("color", COLOR_WORDS), ("shape", SHAPE_WORDS)):
        wanted = {table[w] for w in words if w in table}
        if wanted:
            used = True
            remaining = [o for o in remaining if getattr(o, attr) in wanted]
    for size in [SIZE_WORDS[w] for w in words if w in SIZE_WORDS]:
        used = True
        remaining = _by_size(remaining, size)
    for i, w in enumerate(words):
        if w not in SPATIAL_WORDS or (w == "right" and yes_said):
            continue
        used = True
        remaining = _extreme(remaining, _resolve_depth(SPATIAL_WORDS[w], words[i + 1:i + 4], viewpoint), viewpoint)
    for w in words:
        if w in ORDINALS and len(ordered) > 1:
            used = True
            rank = ORDINALS[w]
            chosen = ordered[rank].index if -len(ordered) <= rank < len(ordered) else None
            remaining = [o for o in remaining if o.index == chosen]
    # Numbers are the boxes on the question's picture: 1 = the option named first.
    numbers = [int(w) for w in words if w.isdigit()] + [NUMBERS[w] for w in words if w in NUMBERS and "number" in words]
    if numbers:
        used = True
        chosen = {ordered[n - 1].index for n in numbers if 1 <= n <= len(ordered)}
        remaining = [o for o in remaining if o.index in chosen]
    return remaining, used


def _by_size(objs: list[PerceivedObject], size: str) -> list[PerceivedObject]:
    """'medium' matches the label; 'smallest'/'largest' keep the extreme size among ``objs``."""
    if size == "medium" or len(objs) <= 1:
        return [o for o in objs if o.size == "medium"] if size == "medium" else objs
    ranks = [SIZE_RANK.get(o.size, 1) for o in objs]
    best = min(ranks) if size == "smallest" else max(ranks)
    if ranks.count(best) == len(ranks):
        return []  # all the same size: the word tells nothing apart
    return [o for o, r in zip(objs, ranks) if r == best]


def _resolve_depth(where: str, following: list[str], viewpoint: Viewpoint) -> str:
    """'near'/'far' relative to who is named: 'me' is the person (+x), 'you' the robot (-x).

    ``_extreme`` measures near/far from the viewpoint's viewer, so naming the other party flips it.
    """
    if where not in ("near", "far"):
        return where
    viewer = "me" if viewpoint == "user" else "you"
    named = next((w for w in following if w in ("me", "you", "us", "robot")), viewer)
    named = "me" if named == "us" else ("you" if named == "robot" else named)
    if named == viewer:
        return where
    return "far" if where == "near" else "near"


def _spatial_right(words: list[str]) -> bool:
    """'right' used as a place ('the right one', 'on the right'), not as 'that's right'."""
    for i, w in enumerate(words):
        if w == "right" and ((i > 0 and words[i - 1] in ("the", "to", "my", "your")) or (i + 1 < len(words) and words[i + 1] in ("one", "side", "hand"))):
            return True
    return False


def _extreme(objs: list[PerceivedObject], where: str, viewpoint: Viewpoint) -> list[PerceivedObject]:
    """Keep the object furthest in direction ``where`` (left/right/middle/near/far).

    Returns [] when no object stands out by ``SPATIAL_MARGIN_M`` (the word then tells nothing).
    """
    if len(objs) <= 1:
        return objs
    if where == "middle":
        ranked = sorted(objs, key=lambda o: rightness(o, viewpoint))
        return [ranked[len(ranked) // 2]] if len(ranked) % 2 == 1 else []
    key = {
        "left": lambda o: -rightness(o, viewpoint),
        "right": lambda o: rightness(o, viewpoint),
        "near": lambda o: nearness(o, viewpoint),
        "far": lambda o: -nearness(o, viewpoint),
    }[where]
    ranked = sorted(objs, key=key, reverse=True)
    if key(ranked[0]) - key(ranked[1]) < SPATIAL_MARGIN_M:
        return []
    return [ranked[0]]


def question_order(options: Sequence[PerceivedObject], viewpoint: Viewpoint) -> list[PerceivedObject]:
    """Options as a person would list them: left to right, then far to near."""
    return sorted(options, key=lambda o: (round(rightness(o, viewpoint), 2), -nearness(o, viewpoint)))
