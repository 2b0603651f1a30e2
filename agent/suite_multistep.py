"""The ``multistep`` suite: requests of 2 to 4 steps in every form the planner reads.

Families (the report's ``family``), each phrased many ways:

- ``conjunction``: "put the red cube and the blue ball in the green bowl" (2-4 objects);
- ``quantifier``: "put all the red blocks in the bowl", "every ball", "the red cubes", "both ...";
- ``count``: "put two of the cubes in the bowl" where exactly that many are on the table (the
  contract names the objects meant, so "two of three" is not generated);
- ``sequence``: "first the ball, then the cube" (``ordered: true``);
- ``matching``: "put each block in the bowl of its colour";
- ``exclusion``: "put all the cubes except the green one in the bowl";
- ``rest``: "put the red cube in the bowl, then the rest";
- ``skip``: a conjunction of three or four with "skip the blue one" said while the first step moves.

Several objects go into one bowl, so that bowl is large (18 cm) and they are small (4 cm).
The other objects on the table must stay where they are. Seeds 11000-11199 were used in
development (a parser fix came from 11005); 11200-11399 are the measured block (docs/RESULTS.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agent.suites import _Table, _word, register_suite
from sim.scene import COLORS

FAMILIES: tuple[str, ...] = ("conjunction", "quantifier", "count", "sequence", "matching", "exclusion", "rest", "skip")
#: Colours and shapes drawn from (bowls excluded: they are places).
KIND_COLORS: tuple[str, ...] = ("red", "green", "blue", "yellow", "orange", "purple", "pink", "cyan")
SHAPES: tuple[str, ...] = ("cube", "ball")
PUT = ("put", "place", "move", "please put", "could you put", "can you place", "set")
IN = ("in", "into", "inside")
AND = ("{a} and {b}", "{a} as well as {b}", "both {a} and {b}", "{a} and also {b}")
AND3 = ("{a}, {b} and {c}", "{a}, {b}, and {c}")
AND4 = ("{a}, {b}, {c} and {d}", "{a}, {b}, {c}, and also {d}")
ALL = ("all the {c} {s}s", "every {c} {w}", "each {c} {w}", "the {c} {s}s", "all of the {c} {s}s", "all {c} {s}s")
COUNT = ("two of the {c} {s}s", "the two {c} {s}s", "both {c} {s}s", "2 {c} {s}s", "both of the {c} {s}s")
COUNT3 = ("three of the {c} {s}s", "the three {c} {s}s", "all three {c} {s}s")
COUNT4 = ("four of the {c} {s}s", "the four {c} {s}s", "all four {c} {s}s")
SEQ = ("first put {a} {rel} {bowl}, then {b}", "put {a} {rel} {bowl} first, then {b}",
       "put {a} {rel} {bowl} and then {b}", "first {a}, then {b}, {rel} {bowl}",
       "start with {a}, after that {b}, both {rel} {bowl}", "put {a} {rel} {bowl}, after that put {b} {rel} {bowl}")
MATCH = ("put each block in the bowl of its colour", "sort the blocks into the matching bowls",
         "put every cube into the bowl with the same color", "put each cube in the bowl of the same colour",
         "put the blocks into the bowls of their colour", "put all the blocks in the matching bowls")
EXCEPT = ("all the {s}s except the {x} one", "every {w} except the {x} one", "all the {s}s but the {x} one",
          "all the {s}s apart from the {x} {w}", "all of the {s}s other than the {x} one")
REST = ("put {a} {rel} {bowl}, then the rest", "put {a} {rel} {bowl} first, then everything else",
        "first {a}, then the others, {rel} {bowl}", "put {a} {rel} {bowl} and then the rest of them")


def _phrase(rng: np.random.Generator, choices: tuple[str, ...], **kw: str) -> str:
    return str(rng.choice(choices)).format(**kw)


def _the(rng: np.random.Generator, obj: Any) -> str:
    return f"the {obj.color} {_word(rng, obj.shape)}"


def _big_bowl(table: _Table, rng: np.random.Generator, avoid: set[str]) -> Any:
    color = str(rng.choice([c for c in COLORS if c not in avoid and c in ("green", "white", "gray", "brown", "black")]))
    return table.add("bowl", color, "large", x=(0.38, 0.62), y=(-0.15, 0.15))


def _intents(objs: list[Any], bowl_ids: list[str]) -> list[dict[str, Any]]:
    return [{"pick": o.id, "place": b, "relation": "in"} for o, b in zip(objs, bowl_ids)]


def _distinct_kinds(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    colors = rng.choice(KIND_COLORS, size=n, replace=False)
    return [(str(rng.choice(SHAPES)), str(c)) for c in colors]


def _scene(rng: np.random.Generator, family: str) -> dict[str, Any]:
    table = _Table(rng)
    bowl_word = f"the {{c}} {str(rng.choice(('bowl', 'bowl', 'dish')))}"
    put, rel = str(rng.choice(PUT)), str(rng.choice(IN))
    ordered = False
    interjections: list[dict[str, Any]] = []
    if family == "matching":
        colors = [str(c) for c in rng.choice(KIND_COLORS, size=int(rng.integers(2, 4)), replace=False)]
        bowls = [table.add("bowl", c, "medium") for c in colors]
        blocks = [table.add("cube", c, "small") for c in colors]
        table.add_distractors(int(rng.integers(0, 2)), avoid={(c, s) for c in KIND_COLORS for s in ("cube", "bowl")})
        return {"scene": table.scene(), "instruction": str(rng.choice(MATCH)),
                "user": {"intent": _intents(blocks, [b.id for b in bowls])}, "expect": {"success": True, "ask": False}}
    if family in ("conjunction", "skip", "sequence"):
        n = int(rng.integers(3, 5)) if family == "skip" else int(rng.integers(2, 5 if family == "conjunction" else 3))
        kinds = _distinct_kinds(rng, n)
        bowl = _big_bowl(table, rng, {c for _, c in kinds})
        objs = [table.add(s, c, "small") for s, c in kinds]
        names = [_the(rng, o) for o in objs]
        where = f"{rel} {bowl_word.format(c=bowl.color)}"
        if family == "sequence":
            ordered = True
            text = _phrase(rng, SEQ, a=names[0], b=names[1], rel=rel, bowl=bowl_word.format(c=bowl.color))
        else:
            listed = (_phrase(rng, AND, a=names[0], b=names[1]) if n == 2 else
                      _phrase(rng, AND3, a=names[0], b=names[1], c=names[2]) if n == 3 else
                      _phrase(rng, AND4, a=names[0], b=names[1], c=names[2], d=names[3]))
            text = f"{put} {listed} {where}"
        meant = objs
        if family == "skip":
            skipped = objs[int(rng.integers(1, n))]
            meant = [o for o in objs if o is not skipped]
            said = str(rng.choice(("skip the {c} one", "skip the {c} {w}", "leave out the {c} one", "not the {c} one",
                                   "forget the {c} {w}"))).format(c=skipped.color, w=_word(rng, skipped.shape))
            interjections = [{"after_step": int(rng.integers(5, 30)), "say": said}]
    elif family in ("quantifier", "count", "exclusion"):
        shape, color = str(rng.choice(SHAPES)), str(rng.choice(KIND_COLORS))
        n = int(rng.integers(2, 5 if family != "exclusion" else 4))
        if family == "exclusion":
            others = [str(c) for c in rng.choice([c for c in KIND_COLORS], size=n + 1, replace=False)]
            bowl = _big_bowl(table, rng, set(others))
            objs = [table.add(shape, c, "small") for c in others]
            left_out = objs[int(rng.integers(len(objs)))]
            meant = [o for o in objs if o is not left_out]
            phrase = _phrase(rng, EXCEPT, s=shape, w=_word(rng, shape), x=left_out.color)
        else:
            bowl = _big_bowl(table, rng, {color})
            meant = [table.add(shape, color, "small") for _ in range(n)]
            table.add_distractors(int(rng.integers(1, 3)), avoid={(color, shape), *((c, "bowl") for c in COLORS)})
            choices = ALL if family == "quantifier" else {2: COUNT, 3: COUNT3, 4: COUNT4}[n]
            phrase = _phrase(rng, choices, c=color, s=shape, w=_word(rng, shape))
        text = f"{put} {phrase} {rel} {bowl_word.format(c=bowl.color)}"
    else:  # rest
        kinds = _distinct_kinds(rng, int(rng.integers(2, 5)))
        bowl = _big_bowl(table, rng, {c for _, c in kinds})
        meant = [table.add(s, c, "small") for s, c in kinds]
        text = _phrase(rng, REST, a=_the(rng, meant[0]), rel=rel, bowl=bowl_word.format(c=bowl.color))
    user: dict[str, Any] = {"intent": _intents(meant, [bowl.id] * len(meant)), "patience": 3}
    if ordered:
        user["ordered"] = True
    if interjections:
        user["interjections"] = interjections
    return {"scene": table.scene(), "instruction": text, "user": user, "expect": {"success": True, "ask": False}}


@register_suite("multistep")
def _multistep(rng: np.random.Generator) -> dict[str, Any]:
    # The family is the rng's first draw, so any block of seeds mixes the families.
    family = FAMILIES[int(rng.integers(len(FAMILIES)))]
    for _ in range(50):
        try:
            return {**_scene(rng, family), "family": family}
        except RuntimeError:  # no room on this table: draw another
            continue
    raise RuntimeError(f"no room for a {family} table in 50 tries")
