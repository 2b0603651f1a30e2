"""Sound-alike matching of words: "sand ceiling" ~ "cyan cylinder", "ball" ~ "bowl".

`phonetic_key(word)` spells a word the way it sounds with a small set of rules (a simplified
Metaphone): consonants mapped to sound classes ("c" before e/i/y is "s", "ph" is "f", "ck"
is "k"), every vowel group written "a", silent final "e" dropped. Two phrases are as similar as
their keys are (1 - edit distance / longer key length), in [0, 1].
`PhoneticMatcher(vocabulary).best(words)` returns the closest vocabulary phrases with that
similarity, used as the confidence of a repair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Ordered rewrite rules applied to a lower-case word (longest patterns first).
_RULES: tuple[tuple[str, str], ...] = (
    (r"(?<=[aeiou])w(?![aeiouy])", "u"), (r"^kn", "n"), (r"^wr", "r"), (r"^ps", "s"), (r"^x", "s"), (r"^wh", "w"),
    (r"ough", "af"), (r"tch", "x"), (r"dg(?=[eiy])", "j"), (r"sch", "sk"), (r"ph", "f"), (r"gh(?![aeiouy])", ""),
    (r"ck", "k"), (r"sh", "x"), (r"ch", "x"), (r"th", "0"), (r"qu", "kw"), (r"ng$", "n"), (r"ng", "nk"),
    (r"c(?=[eiy])", "s"), (r"c", "k"), (r"g(?=[eiy])", "j"), (r"q", "k"), (r"x", "ks"), (r"z", "s"), (r"v", "f"),
    (r"d", "t"), (r"b", "p"), (r"mb$", "m"),
)
_VOWELS = re.compile(r"[aeiouy]+")


@lru_cache(maxsize=4096)
def phonetic_key(text: str) -> str:
    """Sound skeleton of a word or phrase ("cylinder" -> "salantar"); spaces are dropped."""
    keys = []
    for word in re.findall(r"[a-z]+", text.lower()):
        if len(word) > 2 and word.endswith("e") and word[-2] not in "aeiouy":
            word = word[:-1]  # silent final e: "cube" sounds like "cub"
        for pattern, repl in _RULES:
            word = re.sub(pattern, repl, word)
        word = re.sub(r"(.)\1+", r"\1", word)  # doubled letters sound once
        keys.append(_VOWELS.sub("a", word))
    return "".join(keys)


def _edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def similarity(a: str, b: str) -> float:
    """How alike two words or phrases sound, in [0, 1] (1: the same key)."""
    ka, kb = phonetic_key(a), phonetic_key(b)
    if not ka or not kb:
        return 1.0 if ka == kb else 0.0
    return 1.0 - _edit_distance(ka, kb) / max(len(ka), len(kb))


@dataclass(frozen=True)
class Match:
    """A vocabulary phrase that sounds like what was heard."""

    heard: str
    phrase: str
    similarity: float


class PhoneticMatcher:
    """Nearest-sounding phrases of a fixed vocabulary (lexicon words, names of seen objects)."""

    def __init__(self, vocabulary: list[str] | tuple[str, ...], min_similarity: float = 0.5) -> None:
        self.vocabulary = tuple(dict.fromkeys(vocabulary))
        # matches below this are not offered at all
        self.min_similarity = min_similarity

    def best(self, heard: str, k: int = 3) -> list[Match]:
        """Up to `k` vocabulary phrases sounding like `heard`, most similar first."""
        scored = [Match(heard, p, similarity(heard, p)) for p in self.vocabulary if p != heard]
        scored = [m for m in scored if m.similarity >= self.min_similarity]
        return sorted(scored, key=lambda m: (-m.similarity, m.phrase))[:k]
