"""Procedural scenario suites: ``make_scenario(suite, seed) -> Scenario`` with ``expect`` filled in.

Suites (registered by name in ``SUITES``, never an if/elif):
- ``unambiguous``: the words fit exactly one object; the agent should act without asking.
- ``ambiguous``: two or three objects fit the words (or, one time in three, two bowls fit the
  place), one is meant; it must ask, then succeed.
- ``relations``: place an object left_of / right_of / in_front_of / behind / next_to / in / on
  another one (half the beside references are bowls), between two others, or in a part of the
  table ("in the front right corner"); unambiguous, so no question.
- ``correction``: the person names the wrong one of two look-alikes and corrects it ("no, the
  other one"), mid-motion (an interjection) or once the robot has finished with the wrong one.
- ``misperceived``: an unambiguous request whose object perception first sees in a nearby
  colour (a fault a second look clears): it should look again, then act (at most one question).
- ``infeasible``: asks for something that is not there ("the purple elephant", a colour or
  shape not on the table): it must not succeed (and must leave the table alone).
- ``corrections`` (``agent/suite_corrections.py``): every correction form, mid-motion or after.
- ``knowno`` (``agent/suite_knowno.py``): KnowNo's tabletop families on three-block,
  three-bowl tables, phrased many ways.
Everything comes from ``numpy.random.default_rng([crc32(suite name), seed])``: same seed, same
scenario, also after suites are added.
"""

from __future__ import annotations

import zlib
from typing import Any, Callable, Optional

import numpy as np

from agent.scenario import Scenario
from agent.simulated_user import SHAPE_WORDS
from sim.scene import COLORS, TABLE_X, TABLE_Y, ObjectSpec, SceneSpec, spacing_radius
from sim.task_sampling import FLAT_TOPPED, is_feasible
from sim.tasks import TaskSpec
from vocab.words import GRASPABLE_SHAPES, SHAPES, SIZES

#: suite name -> builder(rng) returning the scenario's fields (scene, instruction, user, expect...).
SuiteBuilder = Callable[[np.random.Generator], dict[str, Any]]
SUITES: dict[str, SuiteBuilder] = {}

#: Relation -> how people say it (before the reference object's description).
RELATION_WORDS: dict[str, tuple[str, ...]] = {
    "in": ("in", "into", "inside"),
    "on": ("on", "on top of", "onto"),
    "left_of": ("to the left of", "left of"),
    "right_of": ("to the right of", "right of"),
    "in_front_of": ("in front of",),
    "behind": ("behind",),
    "next_to": ("next to", "beside", "near", "close to", "by"),
}
PICK_VERBS: tuple[str, ...] = ("pick up", "grab", "lift", "take")
PLACE_VERBS: tuple[str, ...] = ("put", "place", "move", "set")
#: Things nobody has on this table (the "purple elephant" of the infeasible suite).
ABSENT_THINGS: tuple[str, ...] = ("elephant", "banana", "screwdriver", "teddy bear", "phone", "pyramid")
#: Colours a camera plausibly confuses each colour with (for the misperceived suite).
NEAR_COLORS: dict[str, tuple[str, ...]] = {
    "red": ("orange", "pink"), "orange": ("red", "yellow"), "yellow": ("orange",), "green": ("cyan",),
    "blue": ("cyan", "purple"), "cyan": ("blue", "green"), "purple": ("pink", "blue"), "pink": ("purple", "red"),
    "brown": ("orange",), "gray": ("white",), "white": ("gray",), "black": ("gray",),
}
#: What people say when the robot goes for the wrong one.
CORRECTIONS: tuple[str, ...] = ("no, the other one", "no, not that one, the other one", "wrong one, the other one")
#: An interjection step beyond any motion: said once the robot has finished.
LATE_STEP = 100_000


def register_suite(name: str) -> Callable[[SuiteBuilder], SuiteBuilder]:
    def wrap(builder: SuiteBuilder) -> SuiteBuilder:
        SUITES[name] = builder
        return builder

    return wrap


def make_scenario(suite: str, seed: int) -> Scenario:
    """The scenario ``suite``-``seed`` (deterministic: same arguments, same scenario)."""
    if suite not in SUITES:
        raise KeyError(f"unknown suite {suite!r}; known: {', '.join(sorted(SUITES))}")
    rng = np.random.default_rng([zlib.crc32(suite.encode()), seed])
    fields = SUITES[suite](rng)
    return Scenario.model_validate({"name": f"{suite}-{seed}", "source": f"suite:{suite}", **fields})


def make_suite(suite: str, seeds: list[int]) -> list[Scenario]:
    return [make_scenario(suite, seed) for seed in seeds]


def parse_seeds(text: str) -> list[int]:
    """'0-49' -> 0..49 inclusive; '1,3,5' -> [1, 3, 5]; '0-2,7' mixes both."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part[1:]:
            lo, hi = part.split("-", 1)
            if int(hi) < int(lo):
                raise ValueError(f"seed range {part!r} runs backwards")
            seeds.extend(range(int(lo), int(hi) + 1))
        else:
            seeds.append(int(part))
    if not seeds:
        raise ValueError(f"no seeds in {text!r}")
    return seeds


# -- scene building ---------------------------------------------------------------------------


class _Table:
    """Places objects one by one without overlap, all randomness from ``rng``."""

    def __init__(self, rng: np.random.Generator, viewpoint: str = "user") -> None:
        self.rng = rng
        self.viewpoint = viewpoint
        self.objects: list[ObjectSpec] = []

    def fits(self, obj: ObjectSpec, gap: float = 0.04) -> bool:
        return all(
            np.hypot(obj.position[0] - o.position[0], obj.position[1] - o.position[1])
            >= spacing_radius(obj) + spacing_radius(o) + gap
            for o in self.objects
        )

    def add(self, shape: str, color: str, size: Optional[str] = None, *,
            x: tuple[float, float] = (TABLE_X[0] + 0.04, TABLE_X[1] - 0.04),
            y: tuple[float, float] = (TABLE_Y[0] + 0.04, TABLE_Y[1] - 0.04)) -> ObjectSpec:
        """Add an object at a random free spot in the x/y ranges (metres)."""
        size = size or str(self.rng.choice(SIZES))
        for _ in range(400):
            pos = (round(float(self.rng.uniform(*x)), 3), round(float(self.rng.uniform(*y)), 3))
            obj = ObjectSpec(id=f"o{len(self.objects)}", shape=shape, color=color, size=size,  # type: ignore[arg-type]
                             position=pos, yaw=round(float(self.rng.uniform(-0.6, 0.6)), 3))
            if self.fits(obj):
                self.objects.append(obj)
                return obj
        raise RuntimeError(f"no room for a {color} {shape} in x={x}, y={y}")

    def add_distractors(self, n: int, avoid: set[tuple[str, str]], **kwargs: Any) -> None:
        """``n`` objects whose (colour, shape) is not in ``avoid`` (so the words stay unique)."""
        for _ in range(n):
            while True:
                shape, color = str(self.rng.choice(GRASPABLE_SHAPES + ("bowl",))), str(self.rng.choice(list(COLORS)))
                if (color, shape) not in avoid:
                    break
            try:
                self.add(shape, color, **kwargs)
            except RuntimeError:
                return  # a crowded table: fewer distractors is still a valid scene

    def scene(self) -> SceneSpec:
        return SceneSpec(viewpoint=self.viewpoint, objects=list(self.objects))  # type: ignore[arg-type]


def _pick_kind(rng: np.random.Generator, exclude_colors: tuple[str, ...] = ()) -> tuple[str, str]:
    shape = str(rng.choice(GRASPABLE_SHAPES))
    color = str(rng.choice([c for c in COLORS if c not in exclude_colors]))
    return shape, color


def _word(rng: np.random.Generator, shape: str) -> str:
    """'cube' or an everyday word for it ('block')."""
    return str(rng.choice(SHAPE_WORDS[shape]))


def _user(pick: Optional[str], place: Optional[str] = None, relation: str = "in", **extra: Any) -> dict[str, Any]:
    return {"intent": {"pick": pick, "place": place, "relation": relation}, **extra}


# -- suites -----------------------------------------------------------------------------------


@register_suite("unambiguous")
def _unambiguous(rng: np.random.Generator) -> dict[str, Any]:
    table = _Table(rng)
    shape, color = _pick_kind(rng)
    target = table.add(shape, color)
    table.add_distractors(int(rng.integers(1, 4)), avoid={(color, shape)})
    text = f"{rng.choice(PICK_VERBS)} the {color} {_word(rng, shape)}"
    return {"scene": table.scene(), "instruction": text, "user": _user(target.id),
            "expect": {"success": True, "ask": False}}


@register_suite("ambiguous")
def _ambiguous(rng: np.random.Generator) -> dict[str, Any]:
    if rng.random() < 1 / 3:
        return _ambiguous_place(rng)
    table = _Table(rng)
    shape, color = _pick_kind(rng)
    size = str(rng.choice(SIZES))
    # Two or three look-alikes spread across the table (left / middle / right thirds) so a
    # person can tell them apart by where they are.
    n_same = int(rng.integers(2, 4))
    lanes = [(-0.21, -0.09), (0.09, 0.21)] if n_same == 2 else [(-0.21, -0.11), (-0.03, 0.03), (0.11, 0.21)]
    same = [table.add(shape, color, size, y=lane) for lane in lanes]
    table.add_distractors(int(rng.integers(0, 2)), avoid={(color, shape)})
    target = same[int(rng.integers(len(same)))]
    text = f"{rng.choice(PICK_VERBS)} the {color} {_word(rng, shape)}"
    return {"scene": table.scene(), "instruction": text, "user": _user(target.id, patience=3),
            "expect": {"success": True, "ask": True}}


def _ambiguous_place(rng: np.random.Generator) -> dict[str, Any]:
    """The thing to move is clear, WHERE is not: two look-alike bowls, one meant."""
    for _ in range(100):
        table = _Table(rng)
        bowl_color = str(rng.choice(list(COLORS)))
        bowls = [table.add("bowl", bowl_color, "medium", y=lane) for lane in [(-0.19, -0.12), (0.12, 0.19)]]
        shape, color = _pick_kind(rng, exclude_colors=(bowl_color,))
        pick = table.add(shape, color, "small", y=(-0.05, 0.05))
        place = bowls[int(rng.integers(2))]
        task = TaskSpec(pick=pick.id, place=place.id, relation="in")
        if is_feasible(table.scene(), task):
            break
    else:
        raise RuntimeError("no feasible two-bowl scene found")
    text = f"{rng.choice(PLACE_VERBS)} the {color} {_word(rng, shape)} {rng.choice(RELATION_WORDS['in'])} the {bowl_color} bowl"
    return {"scene": table.scene(), "instruction": text, "user": _user(pick.id, place.id, "in"),
            "expect": {"success": True, "ask": True}}


#: The relations suite's relations: the seven single-reference ones, "between" two objects and
#: a table region, drawn uniformly.
SUITE_RELATIONS: tuple[str, ...] = (*RELATION_WORDS, "between", "region")
#: Table region -> how people say it (sim.relations.REGIONS, in the speaker's frame).
REGION_PHRASES: dict[str, tuple[str, ...]] = {
    "left_side": ("on the left side of the table", "to the left side of the table"),
    "right_side": ("on the right side of the table", "to the right half of the table"),
    "middle": ("in the middle of the table", "in the center of the table"),
    "front": ("at the front of the table", "near the front edge of the table"),
    "back": ("at the back of the table", "on the back edge of the table"),
    "front_left": ("in the front left corner of the table", "in the front left corner"),
    "front_right": ("in the front right corner of the table", "in the front-right corner"),
    "back_left": ("in the back left corner of the table", "in the back left corner"),
    "back_right": ("in the back right corner of the table", "in the back-right corner"),
}


@register_suite("relations")
def _relations(rng: np.random.Generator) -> dict[str, Any]:
    """Put one object beside (any side, in front of, behind ...), in or on another, between two
    others, or in a part of the table; unambiguous words, so no question. Half the references
    of the beside relations are bowls (beside a bowl is beside its rim: sim/relations.py)."""
    relation = str(rng.choice(list(SUITE_RELATIONS)))
    viewpoint = str(rng.choice(["user", "user", "robot"]))
    if relation == "between":
        return _between(rng, viewpoint)
    if relation == "region":
        return _region(rng, viewpoint)
    for _ in range(100):
        table = _Table(rng, viewpoint=viewpoint)
        # "in" needs a bowl big enough for the object; "on" a flat top (cube or cylinder).
        beside = "bowl" if rng.random() < 0.5 else str(rng.choice(GRASPABLE_SHAPES))
        ref_shape = {"in": "bowl", "on": str(rng.choice(FLAT_TOPPED))}.get(relation) or beside
        ref_color = str(rng.choice(list(COLORS)))
        # Reference in the middle band so a spot beside it on any side stays on the table.
        ref = table.add(ref_shape, ref_color, "large" if relation in ("in", "on") else None, x=(0.47, 0.58), y=(-0.10, 0.10))
        shape, color = _pick_kind(rng, exclude_colors=(ref_color,))
        pick = table.add(shape, color, "small" if relation in ("in", "on") else None)
        table.add_distractors(int(rng.integers(0, 2)), avoid={(color, shape), (ref_color, ref_shape)})
        scene = table.scene()
        task = TaskSpec(pick=pick.id, place=ref.id, relation=relation)  # type: ignore[arg-type]
        if is_feasible(scene, task):
            break
    else:
        raise RuntimeError(f"no feasible {relation} placement found")
    text = (f"{rng.choice(PLACE_VERBS)} the {color} {_word(rng, shape)} {rng.choice(RELATION_WORDS[relation])} "
            f"the {ref_color} {_word(rng, ref_shape)}")
    return {"scene": scene, "instruction": text, "user": _user(pick.id, ref.id, relation),
            "expect": {"success": True, "ask": False}}


def _between(rng: np.random.Generator, viewpoint: str) -> dict[str, Any]:
    """Two references across the middle of the table, the object to put between them elsewhere."""
    for _ in range(100):
        table = _Table(rng, viewpoint=viewpoint)
        kinds = [(str(rng.choice(SHAPES)), str(rng.choice(list(COLORS)))) for _ in range(2)]
        if kinds[0] == kinds[1]:
            continue
        lanes = [(-0.22, -0.10), (0.10, 0.22)]
        first, second = (table.add(sh, co, y=lane, x=(0.42, 0.62)) for (sh, co), lane in zip(kinds, lanes))
        shape, color = _pick_kind(rng, exclude_colors=tuple(c for _, c in kinds))
        pick = table.add(shape, color, "small")
        table.add_distractors(int(rng.integers(0, 2)), avoid={(color, shape), *((c, sh) for sh, c in kinds)})
        scene = table.scene()
        task = TaskSpec(pick=pick.id, place=first.id, place2=second.id, relation="between")
        if is_feasible(scene, task):
            break
    else:
        raise RuntimeError("no feasible between placement found")
    text = (f"{rng.choice(PLACE_VERBS)} the {color} {_word(rng, shape)} between the {kinds[0][1]} "
            f"{_word(rng, kinds[0][0])} and the {kinds[1][1]} {_word(rng, kinds[1][0])}")
    user = {"intent": {"pick": pick.id, "place": first.id, "place2": second.id, "relation": "between"}}
    return {"scene": scene, "instruction": text, "user": user, "expect": {"success": True, "ask": False}}


def _region(rng: np.random.Generator, viewpoint: str) -> dict[str, Any]:
    """Put an object in a part of the table (its side, middle, front, back or a corner)."""
    region = str(rng.choice(list(REGION_PHRASES)))
    for _ in range(100):
        table = _Table(rng, viewpoint=viewpoint)
        shape, color = _pick_kind(rng)
        pick = table.add(shape, color)
        table.add_distractors(int(rng.integers(1, 3)), avoid={(color, shape)})
        scene = table.scene()
        task = TaskSpec(pick=pick.id, region=region)  # type: ignore[arg-type]
        if is_feasible(scene, task):
            break
    else:
        raise RuntimeError(f"no feasible placement in the {region} of the table found")
    text = f"{rng.choice(PLACE_VERBS)} the {color} {_word(rng, shape)} {rng.choice(REGION_PHRASES[region])}"
    return {"scene": scene, "instruction": text, "user": {"intent": {"pick": pick.id, "region": region}},
            "expect": {"success": True, "ask": False}}


@register_suite("correction")
def _correction(rng: np.random.Generator) -> dict[str, Any]:
    table = _Table(rng)
    shape, color = _pick_kind(rng)
    size = str(rng.choice(SIZES))
    left = table.add(shape, color, size, y=(-0.21, -0.09))   # person's left (user viewpoint: -y)
    right = table.add(shape, color, size, y=(0.09, 0.21))
    table.add_distractors(int(rng.integers(0, 2)), avoid={(color, shape)})
    said_side, meant = (("left", right) if rng.random() < 0.5 else ("right", left))
    text = f"{rng.choice(PICK_VERBS)} the {color} {_word(rng, shape)} on the {said_side}"
    # Mid-motion (the arm is reaching for the wrong one; steps are 10 Hz control) or, with a
    # step the motion never reaches, after the robot finished with the wrong one (the runner
    # says interjections still pending at the end as a new utterance).
    after = int(rng.integers(8, 20)) if rng.random() < 0.5 else LATE_STEP
    user = _user(meant.id, interjections=[{"after_step": after, "say": str(rng.choice(CORRECTIONS))}])
    expect = {"success": True, "ask": {"min": 0, "max": 1}}
    return {"scene": table.scene(), "instruction": text, "user": user, "expect": expect}


@register_suite("misperceived")
def _misperceived(rng: np.random.Generator) -> dict[str, Any]:
    table = _Table(rng)
    shape, color = _pick_kind(rng)
    target = table.add(shape, color)
    seen = str(rng.choice(NEAR_COLORS[color]))
    # Distractors avoid the seen colour too, so the misreading cannot create a second match.
    table.add_distractors(int(rng.integers(1, 3)), avoid={(color, shape), (seen, shape)})
    text = f"{rng.choice(PICK_VERBS)} the {color} {_word(rng, shape)}"
    return {"scene": table.scene(), "instruction": text, "user": _user(target.id),
            "faults": [{"type": "misperceive_color", "object": target.id, "as": seen}],
            "expect": {"success": True, "ask": {"min": 0, "max": 1}}}


@register_suite("infeasible")
def _infeasible(rng: np.random.Generator) -> dict[str, Any]:
    table = _Table(rng)
    table.add(*_pick_kind(rng))  # at least one graspable thing, so the table is not empty of choices
    table.add_distractors(int(rng.integers(1, 4)), avoid=set())
    present = {o.color for o in table.objects}
    absent_colors = [c for c in COLORS if c not in present]
    variant = int(rng.integers(3))
    if variant == 0:
        text = f"{rng.choice(PICK_VERBS)} the {rng.choice(absent_colors)} {rng.choice(ABSENT_THINGS)}"
    elif variant == 1:
        # A real shape in a colour that is not on the table.
        text = f"{rng.choice(PICK_VERBS)} the {rng.choice(absent_colors)} {_word(rng, str(rng.choice(GRASPABLE_SHAPES)))}"
    else:
        text = f"{rng.choice(PICK_VERBS)} the {rng.choice(ABSENT_THINGS)}"
    return {"scene": table.scene(), "instruction": text, "user": _user(None),
            "expect": {"success": False, "ask": {"min": 0, "max": 1}}}


# Suites in modules of their own register themselves on import (after the helpers above exist).
from agent import suite_corrections, suite_knowno, suite_multistep  # noqa: E402,F401
