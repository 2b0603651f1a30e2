"""Table regions in words: "on the left side of the table", "in the front right corner".

:func:`find_region` looks at the END of a placement request for a region phrase: a preposition
(``lexicon.REGION_PREPOSITIONS``) followed only by region words (``lexicon.REGION_SIDE_WORDS``,
``REGION_NOUNS``, articles, "of"), that says where (left/right, front/back, middle) and is about
the table (a region noun such as "table", "corner", "side", or a middle word). The words map to
the contract's region names (``sim.relations.REGIONS``, in the speaker's frame; whose front is
the scene's viewpoint's, applied when the region is judged, not here):

* a side and an edge: ``front_left`` ... ``back_right`` (a corner);
* a side alone: ``left_side`` / ``right_side``; an edge alone: ``front`` / ``back``;
* the middle alone ("in the middle of the table", "in the centre"): ``middle``; with a side or
  an edge the side or edge wins ("the middle of the left side" is ``left_side``).

"on the left" without a region noun stays what it was (a side word of the object: "put the cube
on the left" is read as before), and "a corner" without a side and an edge names no region.
"""

from __future__ import annotations

from typing import Optional

from perception.lexicon import REGION_NOUNS, REGION_PREPOSITIONS, REGION_SIDE_WORDS

#: Words a region phrase may hold besides side words and nouns.
_GLUE = frozenset({"the", "of", "a", "this", "our", "your", "hand", "please", "there", "over"})


def _words(word: str) -> list[str]:
    """'front-right' -> ['front', 'right']; 'left-hand' stays one word."""
    if word in REGION_SIDE_WORDS or "-" not in word:
        return [word]
    return [w for w in word.split("-") if w]


def region_of(words: list[str]) -> Optional[str]:
    """The region a phrase of region words names (module docstring), or None."""
    flat = [w for word in words for w in _words(word)]
    if not flat or any(w not in REGION_SIDE_WORDS and w not in REGION_NOUNS and w not in _GLUE for w in flat):
        return None
    said = [REGION_SIDE_WORDS[w] for w in flat if w in REGION_SIDE_WORDS]
    side = next((s for s in said if s in ("left", "right")), None)
    edge = next((s for s in said if s in ("front", "back")), None)
    middle = "middle" in said
    about_table = middle or any(w in REGION_NOUNS for w in flat)
    if not about_table or not said:
        return None
    if "corner" in flat and (side is None or edge is None):
        return None  # "the left corner": which of two?
    if side and edge:
        return f"{edge}_{side}"
    if side:
        return f"{side}_side"
    if edge:
        return edge
    return "middle"


def find_region(words: list[str]) -> Optional[tuple[int, str]]:
    """(index of the preposition that opens it, region name) of a region phrase ending ``words``
    (normalised words), or None. The phrase must follow something (the object to move)."""
    for i in range(1, len(words) - 1):  # the longest region tail wins
        if words[i] not in REGION_PREPOSITIONS:
            continue
        region = region_of(words[i + 1:])
        if region is not None:
            return i, region
    return None
