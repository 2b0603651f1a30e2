"""Reading what a person said to the robot from whisper's hypotheses, with the scene in mind.

`CommandReader.read(nbest, vocabulary, expected) -> Reading`:
1. the greedy hypothesis is taken as it is when it parses into something that fits the scene
   (every object it names is on the table) and whisper is sure of it: no beam search, no delay;
2. otherwise the beam search's n-best list is expanded; each hypothesis is also repaired by
   sound: words the lexicon does not know are replaced by the lexicon or scene phrases they
   sound like ("sand ceiling" -> "cyan cylinder"), and colour/shape words that name nothing on
   the table by a sound-alike that does ("the blue ball" -> "the blue bowl" when only a blue
   bowl is there);
3. every candidate is scored: does it parse into an intent that fits the scene (a command), or
   into the kind of answer the question expects (a colour, a side, a number, yes/no), plus
   whisper's log-probability, minus how far each repair is from what was heard;
4. the reading carries a confidence, and `Reading.confirm` is the question to ask first ("Did
   you say the cyan cylinder?") when `perception.speech.confirmation` finds a doubt: a repair
   that does not sound alike enough, a low confidence, or another candidate that means something
   else scoring close to the chosen one (a greedy text with an unsure meaning word is first
   expanded by the beam search so that this check sees the alternatives);
5. noise gets no text: nothing when the detector found no speech, whisper says "no speech",
   the text repeats itself ("blah, blah, blah"), it holds no word the robot understands and
   whisper was unsure of it, or whisper's first guess holds none and the reading is very unsure.
A correction is read with the arm's state in mind (``senseless``): "go on" means nothing while the
arm moves and "hold on" nothing while it waits, so the one that makes sense wins between them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from itertools import product
from typing import Iterable, Literal, Optional

from perception.lexicon import COLOR_WORDS, NUMBER_WORDS, ORDINAL_WORDS, SHAPE_WORDS, default_lexicon
from perception.referring import ReferringExpression, ReferringParser
from perception.speech.confirmation import (ConfirmConfig, CorrectionMeaning, doubtful_words, intent_key,
                                            meanings_conflict)
from perception.speech.phonetic import Match, PhoneticMatcher, similarity
from perception.speech.stt import CORRECTION_PROMPT, DOMAIN_PROMPT, Hypothesis, NBest
from perception.speech.transcript_text import definite, tidy, words as plain_words

#: What the robot expects to hear: a command, an answer of some type, or (while or right after
#: it moves) a correction.
ExpectedAnswer = Literal["command", "choice", "color", "side", "number", "yes_no", "correction"]

#: Canonical words offered as repairs (everyday synonyms are left to the person).
CANONICAL_COLORS = ("red", "green", "blue", "yellow", "orange", "purple", "pink", "cyan", "brown", "gray", "white",
                    "black")
CANONICAL_SHAPES = ("cube", "block", "ball", "sphere", "cylinder", "bowl")
SIDE_WORDS = ("left", "right", "middle", "front", "back", "nearer", "farther")
_REPAIR_WORDS = (*CANONICAL_COLORS, *CANONICAL_SHAPES, *SIDE_WORDS, "small", "big", "large", "medium", "number",
                 *NUMBER_WORDS, "pick", "put", "grab", "place", "move", "take", "yes", "no", "stop", "other")
#: Verbs a command may open with (sound-alike repairs of its first word).
_VERB_WORDS = ("pick", "put", "grab", "place", "move", "take", "lift", "set", "drop", "stack", "hand", "get")
#: Words that make an utterance about the robot's work even without an object in it.
_CONTROL_WORDS = frozenset({"stop", "wait", "hold", "continue", "carry", "go", "back", "undo", "cancel", "never",
                            "forget", "abort", "resume", "proceed", "pause", "freeze", "halt", "other", "wrong",
                            "yes", "no", "yeah", "nope", "okay", "ok", "sure", "correct", "right", "left", "it"})
#: Everyday words of corrections and answers that the lexicon leaves out: never "repaired".
_CONVERSATIONAL = frozenset({"alright", "hmm", "oops", "oh", "fine", "good", "great", "thanks", "rather", "instead",
                             "scratch", "said", "sorry", "please", "not", "that", "this", "those", "mean", "meant",
                             "second", "thought", "hang", "sec", "moment", "keep", "going", "put", "where", "was",
                             "make", "bother", "don't", "about", "like", "whoa", "hey", "now", "what", "why"})
_YES_NO = frozenset({"yes", "no", "yeah", "yep", "nope", "correct", "sure", "right", "wrong", "okay", "ok"})
#: Words whose sound keys are this alike are told apart by the scene, or asked about.
HOMOPHONE = 0.95
_NON_SPEECH = re.compile(r"^[\s\W]*$|^\s*[\[\(][^\]\)]*[\]\)]\s*$")


@dataclass(frozen=True)
class SceneVocabulary:
    """What the robot currently sees, as (colour, shape) pairs; empty: no scene known."""

    objects: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, objects: Iterable) -> "SceneVocabulary":
        """From anything with `.color` and `.shape` (perceived objects, scene object specs)."""
        return cls(tuple((str(o.color), str(o.shape)) for o in objects))

    def names(self) -> list[str]:
        """"red cube", "green bowl", ... (each once)."""
        return list(dict.fromkeys(f"{c} {s}" for c, s in self.objects))

    def fits(self, color: Optional[str], shape: Optional[str]) -> bool:
        """True when some object on the table has this colour and shape (None: any)."""
        if not self.objects:
            return True
        return any((color is None or c == color) and (shape is None or s == shape) for c, s in self.objects)


def scene_prompt(vocabulary: SceneVocabulary, base: str = DOMAIN_PROMPT, expected: str = "command") -> str:
    """The decoder prompt: the robot's vocabulary (the correction forms while it moves) plus the
    names of what is on the table."""
    base = CORRECTION_PROMPT if expected == "correction" and base == DOMAIN_PROMPT else base
    names = vocabulary.names()
    return base if not names else f"{base} On the table: the {', the '.join(names)}."


def expected_answer(question: str) -> ExpectedAnswer:
    """What kind of answer a question asks for ("... on the left or the one on the right?" -> side)."""
    q = question.lower()
    if re.search(r"\binstead\b|\bwhat should i do\b|\bgo on as before\b", q):
        return "correction"  # after the robot stopped: the answer is a correction
    if re.search(r"\bdid you say\b|\bis (it|that)\b|\bshould i\b|\bdo you mean\b|\bthis one\?", q):
        return "yes_no"
    if re.search(r"\bnumber\b|\bwhich number\b", q):
        return "number"
    if re.search(r"\b(left|right|middle|front|back|nearer|farther)\b.*\bor\b", q):
        return "side"
    if sum(c in q.split() for c in CANONICAL_COLORS) >= 2 and " or " in q:
        return "color"
    return "choice" if q.strip() else "command"


@dataclass(frozen=True)
class Reading:
    """What the robot takes the person to have said."""

    # the text to act on ("" when nothing intelligible was said)
    text: str
    # whisper's best hypothesis as decoded
    heard: str
    # rough probability the reading is what was said, in [0, 1]
    confidence: float
    # sound-alike replacements made ("sand ceiling" -> "cyan cylinder")
    repairs: tuple[Match, ...] = ()
    # the question to ask before acting on it ("Did you say the cyan cylinder?"); "" when sure
    confirm: str = ""
    # whether the beam search ran (the greedy text was not good enough)
    used_beam: bool = False
    # why it asks: "repair" | "low_confidence" | "disagreement" | "overruled" | "unknown_word"
    # ("" when it does not)
    doubt: str = ""
    # the best candidate meaning something else, and how far below the reading it scored
    rival: str = ""
    rival_gap: Optional[float] = None


@dataclass(frozen=True)
class _Candidate:
    """One reading of one hypothesis (as heard or repaired) and its score."""

    score: float
    hypothesis: Hypothesis
    text: str
    repairs: tuple[Match, ...]

    @property
    def acoustic(self) -> float:
        """What the ears alone say: whisper's log-probability less what the repairs cost."""
        return max(self.hypothesis.avg_logprob, -5.0) + sum(math.log(max(m.similarity, 1e-3)) for m in self.repairs)


@dataclass(frozen=True)
class ReaderConfig:
    """Thresholds of `CommandReader` (fit scores are in `CommandReader.fit` units)."""

    # when to ask "did you say ...?" before acting
    confirm: ConfirmConfig = field(default_factory=ConfirmConfig)
    # greedy text is taken without beam search at this fit (+0.5 for a command: it has a verb)
    # and avg_logprob
    greedy_fit: float = 1.0
    greedy_logprob: float = -0.7
    # an utterance with no robot word and a confidence below this is treated as noise
    offtopic_confidence: float = 0.6
    # ... and so is a reading below this confidence when whisper's own first guess had no robot
    # word (babble that a lower hypothesis turned into "the other one")
    noise_confidence: float = 0.2
    # whisper's no-speech probability above which a reading is noise however sure its words are
    # (the adapted decoder is trained to give it; as shipped it stayed under 0.12 on speech)
    no_speech_certain: float = 0.9
    # beam width of the n-best list
    beam_size: int = 5
    # most candidate texts scored per hypothesis
    max_candidates: int = 24


@dataclass
class CommandReader:
    """Scene- and dialogue-aware reading of whisper's n-best list (see the module docstring)."""

    config: ReaderConfig = field(default_factory=ReaderConfig)
    parser: ReferringParser = field(default_factory=ReferringParser)
    # what a correction means (`agent.interjection`, passed in): rescoring and the disagreement
    # check use it while the robot expects a correction; None: the words' own content
    correction_meaning: Optional[CorrectionMeaning] = None

    def read(self, nbest: NBest, vocabulary: SceneVocabulary = SceneVocabulary(),
             expected: ExpectedAnswer = "command", senseless: frozenset[str] = frozenset()) -> Reading:
        """``senseless``: correction kinds that mean nothing now (``resume`` while the arm moves)."""
        meaning = self.correction_meaning
        if senseless and expected == "correction" and meaning is not None:
            def sensible(text: str) -> Optional[dict]:
                read = meaning(text)
                return None if read is not None and read.get("kind") in senseless else read
            return replace(self, correction_meaning=sensible).read(nbest, vocabulary, expected)
        if not nbest.hypotheses:
            return Reading("", "", 0.0)
        greedy = nbest.hypotheses[0]
        if not nbest.expanded and self._greedy_is_enough(greedy, vocabulary, expected):
            fit = self.fit(greedy.text, vocabulary, expected)
            return self._finish([_Candidate(fit + greedy.avg_logprob, greedy, greedy.text, ())], nbest, vocabulary,
                                expected, False)
        used_beam = not nbest.expanded
        nbest.expand(self.config.beam_size)
        scored: list[_Candidate] = []
        for hyp in nbest.hypotheses:
            for text, repairs in self.candidates(hyp.text, vocabulary):
                score = (self.fit(text, vocabulary, expected) + max(hyp.avg_logprob, -5.0)
                         + sum(math.log(max(m.similarity, 1e-3)) for m in repairs))
                scored.append(_Candidate(score, hyp, text, repairs))
        scored.sort(key=lambda c: -c.score)
        return self._finish(scored, nbest, vocabulary, expected, used_beam)

    def _greedy_is_enough(self, greedy: Hypothesis, vocabulary: SceneVocabulary, expected: ExpectedAnswer) -> bool:
        """The greedy text fits what is expected, whisper was sure of it and of its meaning words,
        and no word of it sounds the same as one that would fit as well ("ball" / "bowl")."""
        confirm = self.config.confirm
        enough = self.config.greedy_fit + 0.5 * (expected == "command")
        fit = self.fit(greedy.text, vocabulary, expected)
        same_sounding = [text for text, repairs in self.candidates(greedy.text, vocabulary)
                         if repairs and all(m.similarity >= HOMOPHONE for m in repairs)]
        return (greedy.avg_logprob >= self.config.greedy_logprob and fit >= enough
                and not any(self.fit(text, vocabulary, expected) >= fit for text in same_sounding)
                and not self._unknown_words(greedy.text)
                and not (confirm.word_doubt and doubtful_words(greedy.words, confirm.word_confidence)))

    def meaning(self, text: str, expected: ExpectedAnswer) -> object:
        """What `text` means for the robot here (`confirmation.intent_key`)."""
        return intent_key(text, expected, self.correction_meaning)

    def _rival(self, scored: list["_Candidate"], expected: ExpectedAnswer) -> Optional["_Candidate"]:
        """The best candidate that means something else than the chosen one, if any."""
        chosen = self.meaning(scored[0].text, expected)
        return next((c for c in scored[1:] if c.text != scored[0].text
                     and meanings_conflict(self.meaning(c.text, expected), chosen)), None)

    def _overruled(self, scored: list["_Candidate"], expected: ExpectedAnswer) -> Optional["_Candidate"]:
        """A candidate naming something else that whisper heard better than the chosen one: the
        scene (or the expected answer) overruled the ears."""
        tolerance = self.config.confirm.overrule_tolerance
        chosen = self.meaning(scored[0].text, expected)
        heard_better = [c for c in scored[1:] if c.acoustic > scored[0].acoustic + tolerance
                        and self._names_something(c.text, expected)
                        and meanings_conflict(self.meaning(c.text, expected), chosen)]
        return max(heard_better, key=lambda c: c.acoustic, default=None)

    def _names_something(self, text: str, expected: ExpectedAnswer) -> bool:
        if expected == "command":
            parsed = self.parser.parse_instruction(text)
            return any(e is not None and bool(e.color or e.shape) for e in (parsed.pick, parsed.place))
        if expected == "correction" and self.correction_meaning is not None:
            meaning = self.correction_meaning(text)
            return meaning is not None and meaning.get("kind") != "unclear"
        return bool(self.meaning(text, expected))

    def _finish(self, scored: list["_Candidate"], nbest: NBest, vocabulary: SceneVocabulary,
                expected: ExpectedAnswer, used_beam: bool) -> Reading:
        best = scored[0]
        hyp, text, repairs = best.hypothesis, best.text, best.repairs
        heard = nbest.hypotheses[0].text
        confidence = math.exp(max(hyp.avg_logprob, -5.0)) * (1.0 - nbest.no_speech_prob)
        confidence *= math.prod(m.similarity for m in repairs)
        if self.fit(text, vocabulary, expected) <= 0:
            confidence *= 0.5
        if is_noise(hyp.text, hyp.avg_logprob, nbest.no_speech_prob, self.config.no_speech_certain) or (
                not self._on_topic(hyp.text) and confidence < self.config.offtopic_confidence) or (
                not self._on_topic(heard) and confidence < self.config.noise_confidence):
            return Reading("", heard, 0.0, used_beam=used_beam)
        text = definite(tidy(text))
        policy = self.config.confirm
        doubtful = [m for m in repairs if m.similarity < policy.confirm_similarity] if policy.repair else []
        rival = self._rival(scored, expected) if len(scored) > 1 else None
        gap = None if rival is None else best.score - rival.score
        overruled = self._overruled(scored, expected) if policy.overruled and len(scored) > 1 else None
        unsure = policy.low_confidence and confidence < policy.act_confidence
        doubt = ("repair" if doubtful else "low_confidence" if unsure
                 else "disagreement" if policy.disagreement and gap is not None and gap < policy.disagreement_margin
                 else "overruled" if overruled is not None
                 else "unknown_word" if policy.unknown_word and self._unknown_words(text) else "")
        if doubt == "overruled":
            rival, gap = overruled, best.score - overruled.score  # type: ignore[union-attr]
        confirm = ""
        if doubtful:
            confirm = f"Did you say {self._phrase_of(text, doubtful)}?"
        elif doubt:
            confirm = f'Did you say "{text}"?'
        return Reading(text, heard, confidence, repairs, confirm, used_beam, doubt,
                       tidy(rival.text) if rival is not None else "", gap)

    # ---- candidates -------------------------------------------------------------------------
    def candidates(self, text: str, vocabulary: SceneVocabulary) -> list[tuple[str, tuple[Match, ...]]]:
        """`text` and its sound-alike repairs, each with the repairs made (at most `max_candidates`)."""
        words = definite(tidy(text)).lower().replace(",", " ,").split()
        matcher = PhoneticMatcher((*_REPAIR_WORDS, *vocabulary.names()))
        slots: list[list[tuple[list[str], Optional[Match]]]] = []
        i = 0
        while i < len(words):
            run = i
            while run < len(words) and self._is_unknown(words[run]):
                run += 1
            if run > i:  # a run of unknown words: replace it whole
                heard = " ".join(words[i:run])
                options = [(words[i:run], None)] + [(m.phrase.split(), m) for m in matcher.best(heard)]
                slots.append(options)
                i = run
                continue
            word = words[i]
            options = [([word], None)]
            if (i > 0 and words[i - 1] in COLOR_WORDS and word not in SHAPE_WORDS and word not in COLOR_WORDS
                    and word != "one"
                    and [t.kind for t in default_lexicon().tokenize(word)][:1] in (["stop"], ["unknown"])):
                # "the orange here": a colour with no head noun; the next word may be a shape word
                # whose opening whisper lost ("sphere")
                options += [([p], Match(word, p, s)) for p in CANONICAL_SHAPES if (s := similarity(word, p)) >= 0.5]
            if word in COLOR_WORDS or word in SHAPE_WORDS:
                # a known word naming nothing on the table may be a mis-hearing ("blue ball" for
                # "blue bowl"); one that sounds the same as another ("ball", "bowl") always may be
                floor = 0.6 if not self._pair_fits(words, i, vocabulary) else HOMOPHONE
                table = COLOR_WORDS if word in COLOR_WORDS else SHAPE_WORDS
                pool = CANONICAL_COLORS if word in COLOR_WORDS else CANONICAL_SHAPES
                options += [([p], Match(word, p, s)) for p in pool
                            if table[p] != table[word] and (s := similarity(word, p)) >= floor]
            slots.append(options)
            i += 1
        if slots and words[0] not in _VERB_WORDS and (words[0] not in _CONTROL_WORDS or words[0] in SIDE_WORDS):
            # a command opens with its verb: "left the gray cube" was "lift the gray cube"
            slots[0] = slots[0] + [([v], Match(words[0], v, s)) for v in _VERB_WORDS
                                   if (s := similarity(words[0], v)) >= 0.75 and [v] != slots[0][0][0]]
        out: list[tuple[str, tuple[Match, ...]]] = []
        for combo in product(*slots):
            repairs = tuple(m for _, m in combo if m is not None)
            out.append((" ".join(w for ws, _ in combo for w in ws), repairs))
            if len(out) >= self.config.max_candidates:
                break
        return out

    @staticmethod
    def _pair_fits(words: list[str], i: int, vocabulary: SceneVocabulary) -> bool:
        """Whether the colour-shape pair word `i` belongs to ("blue" + "ball") is on the table."""
        word = words[i]
        if word in COLOR_WORDS:
            color, shape = COLOR_WORDS[word], SHAPE_WORDS.get(words[i + 1]) if i + 1 < len(words) else None
        else:
            color, shape = (COLOR_WORDS.get(words[i - 1]) if i > 0 else None), SHAPE_WORDS[word]
        return vocabulary.fits(color, shape)

    # ---- fit ------------------------------------------------------------------------------
    def fit(self, text: str, vocabulary: SceneVocabulary, expected: ExpectedAnswer) -> float:
        """How well `text` reads as what is expected, given the scene: about +1 to +2 for a
        command whose objects are all on the table, -1 for each object that is not there,
        -0.5 for each word the lexicon does not know."""
        tokens = default_lexicon().tokenize(text)
        unknown = -0.5 * sum(1 for t in tokens if t.kind == "unknown" and not _filler(t.text))
        if expected == "command":
            return self._command_fit(text, vocabulary) + unknown
        if expected == "correction":
            return self._correction_fit(text, tokens, vocabulary) + unknown
        kinds = {t.kind for t in tokens}
        words = {t.text for t in tokens}
        colors = [t.value for t in tokens if t.kind == "color"]
        shapes = [t.value for t in tokens if t.kind == "shape"]
        named_fits = all(vocabulary.fits(c, None) for c in colors) and all(vocabulary.fits(None, s) for s in shapes)
        hit = {"color": bool(colors) and named_fits,
               "side": "spatial" in kinds,
               "number": bool({"number", "ordinal"} & kinds) or bool(words & set(NUMBER_WORDS)) or "number" in words,
               "yes_no": bool(words & _YES_NO),
               "choice": bool(kinds & {"color", "shape", "size", "superlative", "spatial", "ordinal", "number"})
               and named_fits}[expected]
        return (1.0 if hit else -0.5) + unknown

    def _correction_fit(self, text: str, tokens: list, vocabulary: SceneVocabulary) -> float:
        """+1 for a correction (by the correction reader when one was given, else a control or
        marker word; +0.5 for one with nothing to act on), -0.5 for anything else; -1 for each
        object it names that is not there."""
        if self.correction_meaning is not None:
            meaning = self.correction_meaning(text)
            # one it can act on beats "no!" (unclear: it would have to ask what to do instead)
            value = -0.5 if meaning is None else 0.5 if meaning.get("kind") == "unclear" else 1.0
        else:
            value = 1.0 if any(t.text in _CONTROL_WORDS or t.text in ("not", "instead") for t in tokens) else -0.5
        colors = [t.value for t in tokens if t.kind == "color"]
        shapes = [t.value for t in tokens if t.kind == "shape"]
        missing = (sum(not vocabulary.fits(c, None) for c in colors)
                   + sum(not vocabulary.fits(None, sh) for sh in shapes))
        return value - missing

    def _command_fit(self, text: str, vocabulary: SceneVocabulary) -> float:
        parsed = self.parser.parse_instruction(text)
        score = 0.5 if any(t.kind == "verb" for t in default_lexicon().tokenize(text)) else 0.0
        for expr in (parsed.pick, parsed.place):
            if expr is None:
                continue
            score += _expression_fit(expr, vocabulary)
        if (parsed.pick is not None and parsed.place is not None and parsed.pick.shape is not None
                and (parsed.pick.color, parsed.pick.shape) == (parsed.place.color, parsed.place.shape)
                and sum((c, sh) == (parsed.pick.color, parsed.pick.shape) for c, sh in vocabulary.objects) == 1):
            score -= 2.0  # the one object put into / onto itself
        return score

    def _phrase_of(self, text: str, repairs: list[Match]) -> str:
        """The noun phrase a repair sits in ("the cyan cylinder"), else the repaired words."""
        parsed = self.parser.parse_instruction(text)
        for expr in (parsed.pick, parsed.place):
            if expr is not None and any(w in expr.text.split() for m in repairs for w in m.phrase.split()):
                return "the " + " ".join(x for x in (expr.size, expr.color, expr.shape) if x)
        return f'"{text}"'

    def _is_unknown(self, word: str) -> bool:
        if word == ",":
            return False
        tokens = default_lexicon().tokenize(word)
        return (len(tokens) == 1 and tokens[0].kind == "unknown" and not _filler(word) and word not in _CONTROL_WORDS
                and word not in _CONVERSATIONAL)

    def _unknown_words(self, text: str) -> list[str]:
        return [w for w in plain_words(text) if self._is_unknown(w)]

    def _on_topic(self, text: str) -> bool:
        tokens = default_lexicon().tokenize(text)
        content = {"color", "shape", "size", "superlative", "spatial", "relation", "verb", "ordinal", "number"}
        return any(t.kind in content or t.text in _CONTROL_WORDS or t.text in ("number", "one") for t in tokens)


def _expression_fit(expr: ReferringExpression, vocabulary: SceneVocabulary) -> float:
    """+1 when the phrase names something on the table, -1 when it names nothing there."""
    if expr.color is None and expr.shape is None:
        return 0.0 if (expr.pronoun or expr.has_content) else -0.5
    if not vocabulary.fits(expr.color, expr.shape):
        return -1.0
    return 0.5 if expr.shape is None and not expr.pronoun else 1.0  # "the orange": a colour with no head


def _filler(word: str) -> bool:
    return word in ORDINAL_WORDS or word in ("number", "and", "then", "it", "one", "other", "another")


def is_noise(text: str, avg_logprob: float = 0.0, no_speech_prob: float = 0.0, no_speech_certain: float = 1.0) -> bool:
    """True for what whisper writes on noise: nothing, "[BLANK_AUDIO]", "(coughs)", a word said
    over and over ("blah, blah, blah, blah"), or its own no-speech verdict: sure (above
    `no_speech_certain`), or likely with unsure words."""
    if _NON_SPEECH.match(text):
        return True
    words = plain_words(text)
    odd = [w for w in words if w not in _CONTROL_WORDS and default_lexicon().tokenize(w)[0].kind == "unknown"]
    if odd and max(words.count(w) for w in odd) >= 3 and max(words.count(w) for w in odd) / len(words) >= 0.5:
        return True
    return no_speech_prob > no_speech_certain or (no_speech_prob > 0.6 and avg_logprob < -1.0)
