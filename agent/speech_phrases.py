"""The project's speech test phrases and how each is judged, drawn from the suites.

- commands: the instructions of the suites' scenarios (seed block given; 12000-12999 is this
  benchmark's), judged by the project's parser: `ReferringParser.parse_instruction` of what
  was heard must equal that of what was said (every field but the raw text);
- answers: replies to the robot's "which one?" questions about the look-alikes of an
  `ambiguous` scene (a side, a colour, a number, an ordinal, a size, yes/no), judged by the
  agent's own reader: `agent.dialogue.interpret_answer` must resolve to the same candidate;
- corrections: the suites' correction phrases naming objects of a `corrections` scene, judged
  by `agent.interjection.read_interjection` (same kind, same object words);
- lexicon: "the <colour> <shape>" for colours and shapes of the lexicon, judged as a noun phrase.
Each phrase carries the scene it is said in (the recognizer may be biased towards it) and the
kind of answer the robot's question expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from perception.speech.testset import TestPhrase
from perception.speech.understanding import ExpectedAnswer, SceneVocabulary

#: Suites commands are drawn from, in turn.
COMMAND_SUITES = ("unambiguous", "ambiguous", "relations", "correction", "corrections", "knowno")
#: Answer templates: (text, expected answer type); {c}: a colour that tells the options apart.
ANSWERS: tuple[tuple[str, ExpectedAnswer], ...] = (
    ("the one on the left", "side"), ("the one on the right", "side"), ("the left one", "side"),
    ("number two", "number"), ("number one", "number"), ("the second one", "choice"), ("the first one", "choice"),
    ("the bigger one", "choice"), ("the smaller one", "choice"), ("yes", "yes_no"), ("no, the other one", "yes_no"),
    ("the {c} one", "color"), ("the {c} {s}", "choice"), ("the one nearer to me", "choice"),
)


@dataclass(frozen=True)
class PhraseContext:
    """Where a phrase is said: the table, and for answers the question's options."""

    vocabulary: SceneVocabulary
    expected: ExpectedAnswer = "command"
    # answers: the objects the question names (perceived), the viewpoint, yes/no question
    options: tuple[Any, ...] = ()
    viewpoint: str = "user"
    yes_no: bool = False


def _perceived(scene: Any) -> list[Any]:
    from perception.types import PerceivedObject

    return [PerceivedObject(index=k + 1, color=o.color, shape=o.shape, size=o.size,
                            position=(o.position[0], o.position[1], 0.02), box=(0, 0, 1, 1), sim_id=o.id)
            for k, o in enumerate(scene.objects)]


def project_phrases(seeds: range, commands: int, answers: int, corrections: int,
                    lexicon: int) -> tuple[list[TestPhrase], dict[str, PhraseContext]]:
    """Phrases with their contexts (keys "cmd-N", "ans-N", "cor-N", "lex-N")."""
    from agent.correction_phrases import CORRECTION_PHRASES
    from agent.dialogue import interpret_answer
    from agent.suites import make_scenario
    from perception.lexicon import SHAPE_WORDS
    from sim.scene import SIZES

    phrases: list[TestPhrase] = []
    contexts: dict[str, PhraseContext] = {}
    rng = np.random.default_rng(seeds.start)
    seed_iter = iter(seeds)
    for k in range(commands):
        sc = make_scenario(COMMAND_SUITES[k % len(COMMAND_SUITES)], next(seed_iter))
        phrases.append(TestPhrase(sc.instruction, "command", f"cmd-{k}"))
        contexts[f"cmd-{k}"] = PhraseContext(SceneVocabulary.of(sc.scene.objects))
    k = 0
    while k < answers:
        sc = make_scenario("ambiguous", next(seed_iter))
        objs = _perceived(sc.scene)
        pick = next(o for o in objs if o.sim_id == sc.user.intent.pick)
        options = [o for o in objs if (o.color, o.shape) == (pick.color, pick.shape)]
        if len(options) < 2:
            continue
        others = [o for o in objs if o not in options]
        template, expected = ANSWERS[k % len(ANSWERS)]
        color = others[0].color if others else pick.color
        text = template.format(c=color, s=others[0].shape if others else pick.shape)
        yes_no = expected == "yes_no"
        clean = interpret_answer(text, options, sc.scene.viewpoint, yes_no=yes_no, fallback=objs)
        if clean.kind not in ("choose", "other"):
            text, expected = ANSWERS[(k // 2) % 5]
        phrases.append(TestPhrase(text, "answer", f"ans-{k}"))
        contexts[f"ans-{k}"] = PhraseContext(SceneVocabulary.of(sc.scene.objects), expected, tuple(objs[:0] + options),
                                             sc.scene.viewpoint, yes_no)
        k += 1
    forms = list(CORRECTION_PHRASES)
    for k in range(corrections):
        sc = make_scenario("corrections", next(seed_iter))
        form = forms[k % len(forms)]
        # a correction names what is on the table: a bowl for a new destination, else an object
        objs = list(sc.scene.objects)
        pool = [o for o in objs if (o.shape == "bowl") == (form == "destination")] or objs
        said = pool[int(rng.integers(len(pool)))]
        first = next((o for o in objs if o is not said and o.shape == said.shape), None) or next(
            (o for o in objs if o is not said), said)
        text = str(rng.choice(CORRECTION_PHRASES[form])).format(c=said.color, c0=first.color, n=said.shape,
                                                               n0=first.shape)
        phrases.append(TestPhrase(text, "correction", f"cor-{k}"))
        contexts[f"cor-{k}"] = PhraseContext(SceneVocabulary.of(sc.scene.objects), "correction")
    colors = ["cyan", "brown", "gray", "purple", "orange", "pink", "yellow", "black", "white", "green", "red", "blue"]
    shapes = ["cylinder", "bowl", "ball", "cube", "block", "sphere"]
    for k in range(lexicon):
        size = f"{SIZES[k % len(SIZES)]} " if k % 3 == 2 else ""
        text = f"the {size}{colors[k % len(colors)]} {shapes[(k * 5) % len(shapes)]}"
        phrases.append(TestPhrase(text, "lexicon", f"lex-{k}"))
        # said about a table holding that object and three others
        table = [(colors[(k + j * 5) % len(colors)], SHAPE_WORDS[shapes[(k * 5 + j) % len(shapes)]]) for j in range(4)]
        contexts[f"lex-{k}"] = PhraseContext(SceneVocabulary(tuple(table)), "choice")
    return phrases, contexts


def _fields(model: Any) -> Any:
    """A parse as plain data without its raw text or unmatched words (they do not change intent)."""
    if isinstance(model, dict):
        return {k: _fields(v) for k, v in model.items() if k not in ("text", "unmatched")}
    if isinstance(model, list):
        return [_fields(v) for v in model]
    return model


def understood(kind: str, said: str, heard: str, context: PhraseContext) -> Optional[bool]:
    """Whether `heard` means what `said` means for this kind of phrase (None: noise clips)."""
    from agent.dialogue import interpret_answer
    from agent.interjection import read_interjection
    from perception.referring import ReferringParser

    parser = ReferringParser()
    if kind == "command":
        return _fields(parser.parse_instruction(said).model_dump()) == _fields(parser.parse_instruction(heard).model_dump())
    if kind == "lexicon":
        return _fields(parser.parse_expression(said).model_dump()) == _fields(parser.parse_expression(heard).model_dump())
    if kind == "answer":
        def reading(text: str) -> tuple[str, list[int]]:
            r = interpret_answer(text, list(context.options), context.viewpoint, yes_no=context.yes_no)  # type: ignore[arg-type]
            return r.kind, sorted(r.picks)
        return reading(said) == reading(heard)
    if kind == "correction":
        a, b = read_interjection(said), read_interjection(heard)
        if a is None or b is None:
            return a is b
        return (a.kind, _fields(parser.parse_expression(a.words or "").model_dump())) == \
               (b.kind, _fields(parser.parse_expression(b.words or "").model_dump()))
    return None
