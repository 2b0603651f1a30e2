"""The ``knowno`` suite: the task families of KnowNo's simulated tabletop, generated here.

KnowNo (Ren et al., CoRL 2023; its public notebook KnowNo_TabletopSim.ipynb) lays three blocks and
three bowls on a table, a block and a bowl of each of three colours, and asks for rearrangements
whose words are ambiguous in different ways. The families below follow that layout and those
modes of ambiguity; the scenes, wordings and checks are this project's own:

- ``block_colour``: the words leave the block open ("put the block in the green bowl"): ask which.
- ``bowl_colour``: the words leave the bowl open ("put the red block in the bowl"): ask which.
- ``spatial``: "close to" / "near" / "next to" a bowl; any side counts, so no question is needed.
- ``directions``: unambiguous left of / right of / in front of / behind a bowl: act without asking.
- ``in``: unambiguous "put the red block in the blue bowl": act without asking.

KnowNo's numeric family ("put two blocks in the bowl") needs a plan of several steps and is not
here. Every family is phrased many ways (``PHRASES``): polite forms, synonyms of block and bowl,
"into"/"inside", requests put as questions, so the suite measures language wider than the
agent's own generator. A seed's family is its generator's first draw, so any block of seeds mixes
the families (about 40 each in ``main.py episodes --suite knowno --seeds 5000-5199``); the
report's ``family`` field groups them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agent.suites import _Table, _user, register_suite
from sim.scene import COLORS
from sim.task_sampling import is_feasible
from sim.tasks import TaskSpec

FAMILIES: tuple[str, ...] = ("block_colour", "bowl_colour", "spatial", "directions", "in")
#: Colours KnowNo's tabletop draws from, plus the contract's other everyday ones.
TABLE_COLORS: tuple[str, ...] = ("red", "green", "blue", "yellow", "orange", "purple", "pink", "cyan", "brown")
BLOCK_WORDS: tuple[str, ...] = ("block", "cube", "block", "box")
BOWL_WORDS: tuple[str, ...] = ("bowl", "bowl", "dish")
#: Request frames: {obj} is the block phrase, {rel} the relation words, {ref} the bowl phrase.
PHRASES: tuple[str, ...] = (
    "put {obj} {rel} {ref}",
    "place {obj} {rel} {ref}",
    "please put {obj} {rel} {ref}",
    "could you put {obj} {rel} {ref}",
    "can you move {obj} {rel} {ref}, please",
    "pick up {obj} and put it {rel} {ref}",
    "I'd like {obj} {rel} {ref}",
    "set {obj} {rel} {ref}",
    "would you place {obj} {rel} {ref}",
    "go ahead and put {obj} {rel} {ref}",
)
IN_WORDS: tuple[str, ...] = ("in", "into", "inside")
NEAR_WORDS: tuple[str, ...] = ("close to", "near", "next to", "beside", "by")
DIRECTION_WORDS: dict[str, tuple[str, ...]] = {
    "left_of": ("to the left of", "left of", "on the left side of"),
    "right_of": ("to the right of", "right of", "on the right side of"),
    "in_front_of": ("in front of",),
    "behind": ("behind", "in back of"),
}


def knowno_table(rng: np.random.Generator, viewpoint: str = "user") -> tuple[_Table, list[Any], list[Any]]:
    """Three small blocks and three medium bowls, one of each per colour (3 colours)."""
    colors = [str(c) for c in rng.choice(TABLE_COLORS, size=3, replace=False)]
    for _ in range(50):
        table = _Table(rng, viewpoint=viewpoint)
        try:
            bowls = [table.add("bowl", c, "medium") for c in colors]
            blocks = [table.add("cube", c, "small") for c in colors]
        except RuntimeError:
            continue
        return table, blocks, bowls
    raise RuntimeError("no room for three blocks and three bowls")


def _phrase(rng: np.random.Generator, obj: str, rel: str, ref: str) -> str:
    return str(rng.choice(PHRASES)).format(obj=obj, rel=rel, ref=ref)


def _block(rng: np.random.Generator, color: str | None) -> str:
    word = str(rng.choice(BLOCK_WORDS))
    return f"the {color} {word}" if color else str(rng.choice([f"the {word}", f"a {word}"]))


def _bowl(rng: np.random.Generator, color: str | None) -> str:
    word = str(rng.choice(BOWL_WORDS))
    return f"the {color} {word}" if color else f"the {word}"


def _family(rng: np.random.Generator, family: str) -> dict[str, Any]:
    viewpoint = "user" if family != "directions" or rng.random() < 0.75 else "robot"
    for _ in range(100):
        table, blocks, bowls = knowno_table(rng, viewpoint)
        block, bowl = blocks[int(rng.integers(3))], bowls[int(rng.integers(3))]
        if family in ("block_colour", "bowl_colour", "in"):
            relation, rel = "in", str(rng.choice(IN_WORDS))
        elif family == "spatial":
            relation, rel = "next_to", str(rng.choice(NEAR_WORDS))
        else:
            relation = str(rng.choice(list(DIRECTION_WORDS)))
            rel = str(rng.choice(DIRECTION_WORDS[relation]))
        if is_feasible(table.scene(), TaskSpec(pick=block.id, place=bowl.id, relation=relation)):  # type: ignore[arg-type]
            break
    else:
        raise RuntimeError(f"no feasible {family} task in 100 tables")
    obj = _block(rng, None if family == "block_colour" else block.color)
    ref = _bowl(rng, None if family == "bowl_colour" else bowl.color)
    ambiguous = family in ("block_colour", "bowl_colour")
    return {"scene": table.scene(), "instruction": _phrase(rng, obj, rel, ref),
            "user": _user(block.id, bowl.id, relation, patience=3),
            "expect": {"success": True, "ask": {"min": 1, "max": 1} if ambiguous else False}}


@register_suite("knowno")
def _knowno(rng: np.random.Generator) -> dict[str, Any]:
    # The family comes from the rng's first draw, so any block of seeds mixes the families.
    family = FAMILIES[int(rng.integers(len(FAMILIES)))]
    return {**_family(rng, family), "family": family}


assert set(TABLE_COLORS) <= set(COLORS)
