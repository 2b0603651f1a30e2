"""What the person says about a motion, read as the robot reads it (agent/interjection.py).

Every phrasing the ``corrections`` suite draws from must read as its own form; praise and
small talk must not read as anything (they must never halt the arm)."""

from __future__ import annotations

import pytest

from agent.correction_phrases import CORRECTION_PHRASES
from agent.interjection import read_interjection

#: Phrase table key -> the kind it must read as.
FORM_OF = {"referent_color": "referent", "referent_shape": "referent", "other": "other", "destination": "destination",
           "destination_on": "destination", "pause": "pause", "resume": "resume", "undo": "undo", "cancel": "cancel",
           "stop": "stop", "unclear": "unclear"}
WORDS = {"c": "blue", "n": "ball", "c0": "red", "n0": "cube"}


@pytest.mark.parametrize("key,phrase", [(k, p) for k, ps in CORRECTION_PHRASES.items() for p in ps])
def test_every_suite_phrasing_reads_as_its_form(key: str, phrase: str) -> None:
    reading = read_interjection(phrase.format(**WORDS))
    assert reading is not None and reading.kind == FORM_OF[key], (phrase, reading)


@pytest.mark.parametrize("said", [
    "nice", "that's good", "good job", "perfect", "thanks", "thank you", "yes, that one", "looks good", "well done",
    "ok", "okay", "great, thanks", "no problem", "not bad", "wow", "that's it", "yes", "cool", "hmm", "",
])
def test_praise_and_small_talk_are_not_corrections(said: str) -> None:
    assert read_interjection(said) is None


@pytest.mark.parametrize("said,words", [
    ("no, the blue one", "the blue one"),
    ("no no, the blue one", "the blue one"),
    ("not that one, the ball", "the ball"),
    ("not the cube, the ball", "the ball"),
    ("the ball, not the cube", "the ball"),
    ("sorry, I meant the ball", "the ball"),
    ("no, take the red block on the left", "the red block on the left"),
    ("no, on the left", "the one on the left"),
    ("actually, the big one", "the big one"),
])
def test_a_new_referent_keeps_the_persons_words_for_the_pick_slot(said: str, words: str) -> None:
    reading = read_interjection(said)
    assert reading is not None and (reading.kind, reading.slot, reading.words) == ("referent", "pick", words)


@pytest.mark.parametrize("said,words,relation", [
    ("put it in the green bowl instead", "the green bowl", "in"),
    ("wait, put it in the green bowl instead", "the green bowl", "in"),
    ("actually, on the red block", "the red block", "on"),
    ("hmm, rather into the green bowl", "the green bowl", "in"),
    ("scratch that, leave it in the red bowl", "the red bowl", "in"),
    ("no, the green bowl", "the green bowl", None),  # the relation is the request's (in a bowl)
    ("move it next to the blue ball instead", "the blue ball", "next_to"),
    ("put it to the left of the red block", "the red block", "left_of"),
    ("not in the red bowl, in the blue one", "the blue one", "in"),
])
def test_a_new_destination_names_the_place_and_relation(said: str, words: str, relation: str) -> None:
    reading = read_interjection(said)
    assert reading is not None and (reading.kind, reading.slot) == ("destination", "place")
    assert (reading.words, reading.relation) == (words, relation)


def test_the_other_one_and_its_forms() -> None:
    for said in ("no, the other one", "the other cube", "wrong one", "not that one"):
        reading = read_interjection(said)
        assert reading is not None and reading.kind == "other" and reading.slot == "pick", said


def test_a_whole_new_request_is_not_a_correction_unless_marked() -> None:
    assert read_interjection("pick up the red cube") is None
    assert read_interjection("put the red cube in the green bowl") is None
    taken = read_interjection("take the ball instead")
    assert taken is not None and (taken.kind, taken.words) == ("referent", "the ball")
    # Both slots changed at once: it asks rather than guess which part was meant.
    both = read_interjection("no, put the red cube in the green bowl")
    assert both is not None and both.kind == "unclear"


def test_a_bare_answer_to_what_instead_is_read_as_a_correction_or_go_on() -> None:
    assert read_interjection("the blue cube", answering=True).kind == "referent"  # type: ignore[union-attr]
    assert read_interjection("ok", answering=True).kind == "resume"  # type: ignore[union-attr]
    assert read_interjection("hmm I dunno", answering=True).kind == "unclear"  # type: ignore[union-attr]
    assert read_interjection("hmm", answering=True).kind == "unclear"  # type: ignore[union-attr]


def test_stop_and_cancel_and_pause_are_told_apart() -> None:
    assert read_interjection("stop, leave it").kind == "stop"  # type: ignore[union-attr]
    assert read_interjection("never mind, forget it").kind == "cancel"  # type: ignore[union-attr]
    assert read_interjection("hang on a second").kind == "pause"  # type: ignore[union-attr]
    assert read_interjection("put the cube back where it was").kind == "undo"  # type: ignore[union-attr]


def test_the_corrections_suite_says_every_form_mid_motion_and_after() -> None:
    from agent.suite_corrections import CORRECTION_FORMS
    from agent.suites import LATE_STEP, make_scenario

    said = set()
    for seed in range(100):
        inter = make_scenario("corrections", seed).user.interjections[0]
        reading = read_interjection(inter.say)
        assert reading is not None, inter.say
        assert inter.after_step == LATE_STEP or 8 <= inter.after_step <= 25
        said.add((reading.kind, inter.after_step == LATE_STEP))
    assert said == {(form, late) for form in CORRECTION_FORMS for late in (False, True)}


@pytest.mark.parametrize("request_text", [
    "put the green cube in the front right corner of the table",
    "put the green cube on the left side of the table",
    "put the red block between the red bowl and the blue cube",
    "move the ball to the middle of the table",
    "go ahead and put the brown cube near the brown dish",
    "go ahead and put the blue block in the blue bowl",
    "I'd like the yellow cube inside the bowl",
    "I'd like the blue cube to the left of the orange bowl",
])
def test_a_new_request_with_a_region_or_between_is_not_a_correction(request_text: str) -> None:
    assert read_interjection(request_text) is None


@pytest.mark.parametrize("heard,kind,words", [
    ("not in the green bowl in the blue one", "destination", "the blue one"),
    ("not the red one the blue one", "referent", "the blue one"),
    ("not that one the ball", "referent", "the ball"),
])
def test_a_negated_phrase_ends_at_its_head_word_without_a_comma(heard: str, kind: str, words: str) -> None:
    # speech recognisers often write no comma: "not X, Y" still means Y
    reading = read_interjection(heard)
    assert reading is not None and (reading.kind, reading.words) == (kind, words)


def test_correction_meaning_compares_what_corrections_say() -> None:
    from agent.interjection import correction_meaning

    assert correction_meaning("no, the blue cube") == correction_meaning("sorry, I meant the blue block")
    assert correction_meaning("no, the blue cube") != correction_meaning("no, the red cube")
    assert correction_meaning("nice job") is None
