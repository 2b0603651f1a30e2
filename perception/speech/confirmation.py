"""When the robot asks "Did you say ...?" instead of acting on what it heard.

A reading of whisper's n-best list (`perception.speech.understanding.CommandReader`) is
confirmed first when one of these switchable checks (`ConfirmConfig`) finds a doubt:
- `repair`: a sound-alike repair that does not sound alike enough ("sand ceiling" ->
  "cyan cylinder");
- `low_confidence`: the reading's confidence is below `act_confidence`;
- `disagreement`: another candidate of the n-best list (or of its repairs) MEANS something else
  (`meanings_conflict`: another object, place, answer or correction) and scores within
  `disagreement_margin` of the chosen one. Candidates that mean the same thing ("grab the ball"
  and "pick up the ball"), or only say less than the chosen one ("pick up the cyan" beside
  "pick up the cyan sphere"), never cause a question; one that says more does ("the orange
  sphere" beside a chosen "the orange here");
- `overruled`: a candidate naming another object (or answer, or correction) was heard better
  by whisper than the chosen one but lost on the scene: "pick up the red sphere" heard, only a
  red cube and a gray sphere on the table; the scene may pick the gray sphere or the red cube,
  the ears cannot, so it asks. Repairs that sound alike ("ball" for "bowl") cost nothing;
- same-sounding words ("ball", "bowl": `understanding.HOMOPHONE`) are always offered as
  candidates, so when both fit the table the disagreement check asks which was meant;
- `unknown_word`: the reading still holds a word the lexicon does not know and no repair
  replaced ("pick up the red steer"): what it names was not heard;
- `word_doubt` (greedy decodes only): a word that decides the meaning (a colour, shape, number,
  place, verb or control word) had a decoder probability below `word_confidence`; the reader then
  runs the beam search, and the disagreement check decides on the n-best list.

`intent_key(text, expected, correction_meaning)` is what a reading means for the robot, as
hashable data: the parsed instruction (commands), the answer's content words (answers), or the
correction reader's meaning (corrections: `agent.interjection` is passed in, perception does not
import the agent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Hashable, Optional

from perception.lexicon import default_lexicon
from perception.referring import ReferringParser

#: Lexicon token kinds that change what a phrase means (a word of these kinds is worth checking).
MEANING_KINDS = frozenset({"color", "shape", "size", "superlative", "spatial", "relation", "verb", "ordinal",
                           "number"})
#: Words of corrections and control that change what the robot does.
CONTROL_WORDS = frozenset({"stop", "wait", "hold", "halt", "freeze", "pause", "continue", "carry", "go", "resume",
                           "proceed", "back", "undo", "cancel", "never", "forget", "abort", "other", "another",
                           "no", "not", "yes", "wrong", "instead", "nope", "yeah", "left", "right"})

#: What an answer of each type is about (other types: every meaning word and control word).
ANSWER_KINDS = {"number": frozenset({"number", "ordinal"}), "side": frozenset({"spatial"}),
                "color": frozenset({"color"}), "yes_no": frozenset()}
YES_NO_WORDS = frozenset({"yes", "no", "yeah", "nope", "not", "other", "wrong"})

#: What a correction means: {"kind": ..., ...} (`agent.interjection.correction_meaning`), None: none.
CorrectionMeaning = Callable[[str], Optional[dict]]


@dataclass(frozen=True)
class ConfirmConfig:
    """Which doubts make the robot ask before acting, and their thresholds."""

    # ask when a sound-alike repair is less alike than `confirm_similarity`
    repair: bool = True
    confirm_similarity: float = 0.85
    # ask when the reading's confidence is below `act_confidence`
    low_confidence: bool = True
    act_confidence: float = 0.3
    # ask when a candidate with another meaning scores within `disagreement_margin` of the best
    disagreement: bool = True
    disagreement_margin: float = 0.25
    # ask when a candidate naming something else was heard better (log-probability above the
    # chosen one's by `overrule_tolerance`) but lost on the scene or expected answer
    overruled: bool = True
    overrule_tolerance: float = 0.1
    # ask when the reading still holds a word the robot does not know ("the red steer")
    unknown_word: bool = True
    # run the beam search (and so the disagreement check) when a meaning word of the greedy text
    # has a decoder probability below `word_confidence`
    word_doubt: bool = True
    word_confidence: float = 0.5

    @classmethod
    def off(cls) -> "ConfirmConfig":
        """Only the checks the reader had before the n-best ones: doubtful repairs, low confidence."""
        return cls(disagreement=False, overruled=False, unknown_word=False, word_doubt=False)


_PARSER = ReferringParser()


def _plain(model) -> object:
    if isinstance(model, dict):
        return {k: _plain(v) for k, v in model.items() if k not in ("text", "unmatched")}
    if isinstance(model, list):
        return [_plain(v) for v in model]
    return model


def intent_key(text: str, expected: str, correction_meaning: Optional[CorrectionMeaning] = None) -> Hashable:
    """What `text` means for the robot when it expects `expected` (see the module docstring)."""
    if expected == "correction" and correction_meaning is not None:
        meaning = correction_meaning(text)
        return json.dumps(meaning, sort_keys=True, default=str)
    if expected == "command":
        return json.dumps(_plain(_PARSER.parse_instruction(text).model_dump()), sort_keys=True)
    tokens = default_lexicon().tokenize(text)
    # the question narrows what matters: "number one" and "no, number one" answer alike
    kinds = ANSWER_KINDS.get(expected, MEANING_KINDS - {"verb"})
    words = YES_NO_WORDS if expected == "yes_no" else CONTROL_WORDS if expected not in ANSWER_KINDS else set()
    return tuple((t.kind, t.value) for t in tokens if t.kind in kinds) + tuple(t.text for t in tokens if t.text in words)


def meanings_conflict(rival: Hashable, chosen: Hashable) -> bool:
    """Whether a rival `intent_key` says something the chosen one does not: a command field
    both give differs, or one the chosen reading leaves empty is filled (one the rival leaves
    empty does not count); any difference for the other kinds."""
    if isinstance(rival, str) and isinstance(chosen, str) and rival.startswith("{") and chosen.startswith("{"):
        return _fields_conflict(json.loads(rival), json.loads(chosen))
    return rival != chosen


def _fields_conflict(rival: object, chosen: object) -> bool:
    if rival is None or rival == []:
        return False
    if isinstance(rival, dict) and isinstance(chosen, dict):
        # "the yellow one" leaves the shape to what is there: "the yellow bowl" says no more
        skip = {"shape", "pronoun"} if chosen.get("pronoun") is True and chosen.get("shape") is None else set()
        return any(_fields_conflict(rival[k], chosen.get(k)) for k in rival if k not in skip)
    return rival != chosen


def doubtful_words(words: tuple[tuple[str, float], ...], threshold: float) -> list[str]:
    """The words of a greedy decode that decide its meaning and that the decoder was unsure of."""
    lexicon = default_lexicon()
    out = []
    for word, prob in words:
        if prob >= threshold:
            continue
        kinds = {t.kind for t in lexicon.tokenize(word)}
        if kinds & MEANING_KINDS or word in CONTROL_WORDS:
            out.append(word)
    return out
