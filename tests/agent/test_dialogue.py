"""Question wording and answer reading: what the person hears and how their words are taken."""

from __future__ import annotations

import pytest

from agent.dialogue import (
    cannot_see_message,
    confirm_question,
    interpret_answer,
    question_order,
    which_question,
)
from agent.interjection import read_interjection
from perception.types import PerceivedObject


def _obj(index: int, color: str, shape: str, y: float, x: float = 0.55, size: str = "small") -> PerceivedObject:
    return PerceivedObject(index=index, color=color, shape=shape, size=size, position=(x, y, 0.02), box=(0, 0, 4, 4))


# User viewpoint: +y is the person's right. R is on their right, L on their left.
R = _obj(1, "red", "cube", 0.12)
L = _obj(2, "red", "cube", -0.12)
BLUE = _obj(3, "blue", "cube", 0.0, size="large")


def test_question_names_what_tells_two_same_cubes_apart() -> None:
    options = question_order([R, L], "user")
    assert [o.index for o in options] == [2, 1]  # listed left to right, as a person reads them
    text = which_question(options, "user")
    assert text == "Do you mean the red cube on the left or the one on the right?"


def test_question_uses_colour_when_colour_differs() -> None:
    assert which_question([R, BLUE], "user") == "Do you mean the red cube or the blue cube?"


def test_rephrased_question_differs_and_says_what_to_answer() -> None:
    first, second = which_question([L, R], "user"), which_question([L, R], "user", attempt=2)
    assert second != first and "'left' or 'right'" in second


def test_robot_viewpoint_flips_left_and_right() -> None:
    text = which_question(question_order([R, L], "robot"), "robot")
    assert text == "Do you mean the red cube on the left or the one on the right?"
    assert interpret_answer("the left one", [R, L], "robot").picks == [R.index]


@pytest.mark.parametrize(
    ("answer", "picks"),
    [
        ("the left one", [2]),
        ("the one on my right", [1]),
        ("right", [1]),
        ("the second one", [1]),  # the question named L first, R second
        ("number 2", [1]),  # box 2 on the question's picture: the option named second
        ("number one", [2]),
        ("the blue one", [3]),  # not among the options, but the only blue thing it could mean
        ("the bigger one", [3]),
    ],
)
def test_answers_pick_out_one_option(answer: str, picks: list[int]) -> None:
    options = [L, R] if "bigger" not in answer else [L, BLUE]
    reading = interpret_answer(answer, options, "user", fallback=[R, L, BLUE])
    assert (reading.kind, reading.picks) == ("choose", picks)


def test_near_and_far_follow_who_is_named() -> None:
    near_person, near_robot = _obj(1, "red", "cube", 0.0, x=0.65), _obj(2, "red", "cube", 0.0, x=0.45)
    options = [near_person, near_robot]
    assert interpret_answer("the one nearer to me", options, "user").picks == [1]
    assert interpret_answer("the one nearer to you", options, "user").picks == [2]
    assert interpret_answer("the one farther from me", options, "user").picks == [2]


def test_yes_no_answers() -> None:
    assert interpret_answer("yes please", [R], "user", yes_no=True).picks == [R.index]
    assert interpret_answer("that's right", [R], "user", yes_no=True).kind == "choose"
    other = interpret_answer("no, the other one", [R], "user", yes_no=True)
    assert other.kind == "other" and other.picks == []
    assert interpret_answer("yes", [L, R], "user").kind == "unusable"  # not a yes/no question


@pytest.mark.parametrize("answer", ["never mind", "cancel", "forget it", "stop, leave it"])
def test_cancel_words(answer: str) -> None:
    assert interpret_answer(answer, [L, R], "user").kind == "cancel"


@pytest.mark.parametrize("answer", ["hmm", "the other one", "the one in the middle"])
def test_answers_that_pick_nothing_out_are_unusable(answer: str) -> None:
    assert interpret_answer(answer, [L, R], "user", fallback=[L, R]).kind == "unusable"


@pytest.mark.parametrize("answer, named", [
    ("the green one", "the green one"),
    ("none of those, I meant the yellow cube", "the yellow cube"),
    ("neither, the big blue block", "the big blue cube"),
])
def test_answers_naming_something_outside_the_options(answer: str, named: str) -> None:
    # Both options are red cubes: the answer names another object, to be looked for on the whole table.
    reading = interpret_answer(answer, [L, R], "user", fallback=[L, R])
    assert reading.kind == "elsewhere" and reading.named == named


def test_none_of_those_rules_out_every_option() -> None:
    reading = interpret_answer("neither of them", [L, R], "user")
    assert reading.kind == "other" and reading.picks == []


def test_side_words_need_a_clear_gap() -> None:
    close = [_obj(1, "red", "cube", 0.005), _obj(2, "red", "cube", -0.005)]
    assert interpret_answer("the left one", close, "user").kind == "unusable"


def test_interjections_and_refusal_wording() -> None:
    assert read_interjection("Stop!").kind == "stop"
    assert read_interjection("no, the other one").kind == "other"
    assert read_interjection("looks good") is None
    assert cannot_see_message("the purple elephant") == "I can't see a purple elephant, so I won't move."
    assert confirm_question(BLUE, [R, L, BLUE], "user", said="red cube") == (
        "I see a blue cube, not a red cube. Is that the one you mean?")
