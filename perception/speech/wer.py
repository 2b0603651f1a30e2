"""Word error rate: word-level edit distance after light normalisation.

Normalisation: lower case, punctuation dropped (apostrophes kept), whitespace collapsed, British
spellings mapped to American ("grey" -> "gray"), so "Pick up the grey cube." == "pick up the gray
cube". Numbers are not spelled out.
"""

from __future__ import annotations

import re

_PUNCT = re.compile(r"[^\w\s']")
#: British spellings whisper may write for the same word (its own English normaliser does this too).
_SPELLING = {"grey": "gray", "colour": "color", "colours": "colors", "centre": "center"}


def normalize_text(text: str) -> str:
    """Lower-case words without punctuation, single-spaced."""
    return " ".join(_SPELLING.get(w, w) for w in _PUNCT.sub(" ", text.lower()).split())


def word_edits(reference: str, hypothesis: str) -> int:
    """Minimum word substitutions + insertions + deletions turning reference into hypothesis."""
    ref, hyp = normalize_text(reference).split(), normalize_text(hypothesis).split()
    row = list(range(len(hyp) + 1))  # distances from ref[:0] to every prefix of hyp
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Corpus WER: total edits / total reference words (0 when there are no words)."""
    words = sum(len(normalize_text(r).split()) for r in references)
    edits = sum(word_edits(r, h) for r, h in zip(references, hypotheses, strict=True))
    return edits / words if words else 0.0
