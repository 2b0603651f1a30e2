"""What whisper wrote, tidied for reading: punctuation but commas dropped, digits spelled,
a demonstrative before a described object read as "the"."""

from __future__ import annotations

import re

from perception.lexicon import COLOR_WORDS, NUMBER_WORDS, SHAPE_WORDS

_DIGITS = {str(v): k for k, v in NUMBER_WORDS.items()}


def tidy(text: str) -> str:
    """Whisper's punctuation dropped but for commas (the correction reader splits clauses at
    them), digits spelled, words single-spaced ("Number 2." -> "Number two", "No, the cube")."""
    tokens = re.findall(r"[\w'-]+|,", text)
    out = " ".join(_DIGITS.get(w, w) for w in tokens).replace(" ,", ",")
    return re.sub(r",+", ",", out).strip(", ")


_DESCRIBED = "|".join(sorted({*COLOR_WORDS, *SHAPE_WORDS, "small", "big", "large", "little", "medium"},
                            key=len, reverse=True))
_DEMONSTRATIVE = re.compile(rf"\b(that|this)(?= (?:{_DESCRIBED})\b)", re.I)


def definite(text: str) -> str:
    """A demonstrative before a described object reads as "the" ("into that red dish"): whisper
    writes "that" for an accent's "de", and the parser would take it for a pointing word."""
    return _DEMONSTRATIVE.sub("the", text)


def words(text: str) -> list[str]:
    """The words of `text`, lower case, without punctuation."""
    return [_DIGITS.get(w, w) for w in re.findall(r"[\w'-]+", text.lower())]
