"""Captions for object crops: the words the small SigLIP learns, and which crops each one fits.

A :class:`Caption` mentions a colour, a shape, both, or (after a size word, which the model
cannot judge from a size-normalised crop) neither precisely; it *fits* a crop when every
attribute it mentions matches. Training uses that relation as the multi-positive label of the
sigmoid loss, so two crops of red cubes in one batch are both positives of "a red cube"
instead of false negatives (duplicate captions collapsed the NOTES experiment).

Size words ("small", "big") are part of the vocabulary and of the paraphrases, but they are
never a reason to reject a crop: the crop is resized to the model's input, so size is the
grounder's job (depth geometry), not SigLIP's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from sim.scene import COLORS
from vocab.words import SHAPES

#: canonical colour -> words people use for it (first = canonical).
COLOR_SYNONYMS: dict[str, tuple[str, ...]] = {
    "red": ("red", "crimson", "scarlet"),
    "green": ("green", "lime"),
    "blue": ("blue", "navy"),
    "yellow": ("yellow", "golden"),
    "orange": ("orange", "amber"),
    "purple": ("purple", "violet"),
    "pink": ("pink", "magenta"),
    "cyan": ("cyan", "turquoise", "teal"),
    "brown": ("brown", "chocolate"),
    "gray": ("gray", "grey", "silver"),
    "white": ("white", "ivory"),
    "black": ("black", "ebony"),
}
#: canonical shape -> words people use for it (first = canonical).
SHAPE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "cube": ("cube", "block", "box", "brick"),
    "ball": ("ball", "sphere", "marble"),
    "cylinder": ("cylinder", "can", "tube"),
    "bowl": ("bowl", "dish"),
}
SIZE_WORDS: tuple[str, ...] = ("small", "little", "tiny", "medium", "large", "big")
#: Phrases people add that say nothing about appearance (placement, politeness).
FILLERS: tuple[str, ...] = ("on the left", "on the right", "in front", "at the back", "in the middle", "please")

#: Templates: {c} colour word, {s} shape word, {z} size word.
BOTH_TEMPLATES: tuple[str, ...] = (
    "{c} {s}", "a {c} {s}", "the {c} {s}", "a {z} {c} {s}", "the {z} {c} {s}", "a photo of a {c} {s}",
    "pick up the {c} {s}", "grab the {z} {c} {s}", "the {c} {s} please",
)
COLOR_TEMPLATES: tuple[str, ...] = ("a {c} object", "the {c} one", "something {c}", "the {z} {c} thing")
SHAPE_TEMPLATES: tuple[str, ...] = ("a {s}", "the {s}", "a {z} {s}", "pick up the {s}")


@dataclass(frozen=True)
class Caption:
    """A text and the canonical attributes it commits to (None = says nothing about it)."""

    text: str
    color: Optional[str]
    shape: Optional[str]

    def fits(self, color: str, shape: str) -> bool:
        """True when every attribute the caption mentions matches the object's."""
        return (self.color is None or self.color == color) and (self.shape is None or self.shape == shape)


def canonical_caption(color: str, shape: str) -> str:
    """The plain description used for zero-shot reading and 'what it sees': 'a red cube'."""
    return f"a {color} {shape}"


def all_canonical_captions(shapes: tuple[str, ...] = SHAPES) -> list[Caption]:
    """Every colour x shape canonical caption (12 x 4 = 48 by default)."""
    return [Caption(canonical_caption(c, s), c, s) for c in COLORS for s in shapes]


def random_caption(rng: np.random.Generator, color: str, shape: str,
                   p_color_only: float = 0.15, p_shape_only: float = 0.15, p_filler: float = 0.15) -> Caption:
    """A random paraphrase describing an object of ``color`` and ``shape``."""
    u = rng.uniform()
    kind = "color" if u < p_color_only else "shape" if u < p_color_only + p_shape_only else "both"
    templates = {"color": COLOR_TEMPLATES, "shape": SHAPE_TEMPLATES, "both": BOTH_TEMPLATES}[kind]
    text = str(rng.choice(templates)).format(
        c=rng.choice(COLOR_SYNONYMS[color]), s=rng.choice(SHAPE_SYNONYMS[shape]), z=rng.choice(SIZE_WORDS))
    if rng.uniform() < p_filler:
        text = f"{text} {rng.choice(FILLERS)}"
    return Caption(text, color if kind != "shape" else None, shape if kind != "color" else None)


def wrong_caption(rng: np.random.Generator, color: str, shape: str, what: str) -> Caption:
    """A 'both' caption that is wrong about ``what`` ('color' or 'shape') of the object."""
    if what == "color":
        color = str(rng.choice([c for c in COLORS if c != color]))
    else:
        shape = str(rng.choice([s for s in SHAPES if s != shape]))
    text = str(rng.choice(BOTH_TEMPLATES)).format(
        c=rng.choice(COLOR_SYNONYMS[color]), s=rng.choice(SHAPE_SYNONYMS[shape]), z=rng.choice(SIZE_WORDS))
    return Caption(text, color, shape)


def vocabulary() -> list[str]:
    """Every word any caption can contain, sorted (the word-level tokenizer's vocabulary)."""
    words: set[str] = set(SIZE_WORDS)
    for group in (*COLOR_SYNONYMS.values(), *SHAPE_SYNONYMS.values()):
        words.update(group)
    for text in (*BOTH_TEMPLATES, *COLOR_TEMPLATES, *SHAPE_TEMPLATES, *FILLERS):
        words.update(w for w in text.split() if not w.startswith("{"))
    return sorted(words)
