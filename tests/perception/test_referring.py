"""Instruction parsing: what a person says -> pick phrase, relation, place phrase."""

from __future__ import annotations

import pytest

from perception.referring import ReferringParser


@pytest.fixture(scope="module")
def parser() -> ReferringParser:
    return ReferringParser()


@pytest.mark.parametrize("text, pick, relation, place", [
    ("put the red cube in the green bowl", ("red", "cube"), "in", ("green", "bowl")),
    ("pick up the blue block", ("blue", "cube"), None, None),
    ("place the ball to the left of the cylinder", (None, "ball"), "left_of", (None, "cylinder")),
    ("move the small red cube next to the yellow ball", ("red", "cube"), "next_to", ("yellow", "ball")),
    ("put the cube nearest to the bowl on the blue cube", (None, "cube"), "on", ("blue", "cube")),
    ("stack the red block on the green one", ("red", "cube"), "on", ("green", None)),
    ("put the yellow sphere behind the can", ("yellow", "ball"), "behind", (None, "cylinder")),
    ("could you set the grey tin in front of the violet dish", ("gray", "cylinder"), "in_front_of", ("purple", "bowl")),
    ("drop the turquoise marble into the tan basin", ("cyan", "ball"), "in", ("brown", "bowl")),
    ("place the brick on top of the big box", (None, "cube"), "on", (None, "cube")),
    ("put the tube to the right of the orb", (None, "cylinder"), "right_of", (None, "ball")),
])
def test_instruction_splits_into_pick_relation_place(parser, text, pick, relation, place):
    parsed = parser.parse_instruction(text)
    assert (parsed.pick.color, parsed.pick.shape) == pick
    assert parsed.relation == relation
    if place is None:
        assert parsed.place is None and parsed.action == "pick"
    else:
        assert parsed.place is not None and (parsed.place.color, parsed.place.shape) == place
    assert parsed.unmatched == []


def test_anchor_inside_pick_phrase_is_not_the_placement(parser):
    parsed = parser.parse_instruction("put the cube nearest to the bowl on the blue cube")
    assert parsed.pick.anchor_relation == "nearest"
    assert parsed.pick.anchor is not None and parsed.pick.anchor.shape == "bowl"


def test_trailing_spatial_modifier_stays_with_place(parser):
    parsed = parser.parse_instruction("can you put the tin in the bowl on the left please")
    assert parsed.pick.shape == "cylinder"  # 'can you' is a modal, not a tin can
    assert parsed.relation == "in"
    assert parsed.place is not None and parsed.place.shape == "bowl" and parsed.place.spatial == ["left"]


def test_size_spatial_and_superlatives(parser):
    assert parser.parse_expression("the tiny red cube").size == "small"
    assert parser.parse_expression("the huge ball").size == "large"
    assert parser.parse_expression("the mid-sized can").size == "medium"
    assert parser.parse_expression("the leftmost sphere").spatial == ["leftmost"]
    assert parser.parse_expression("the biggest block").superlative == "large"


@pytest.mark.parametrize("text, ordinal, number", [
    ("the second one", 2, None), ("the first", 1, None), ("the last one", -1, None),
    ("number two", None, 2), ("number 2", None, 2), ("#3", None, 3), ("2", None, 2), ("number one", None, 1),
])
def test_ordinals_and_labels(parser, text, ordinal, number):
    expr = parser.parse_expression(text)
    assert (expr.ordinal, expr.number) == (ordinal, number)


def test_unknown_noun_is_reported(parser):
    parsed = parser.parse_instruction("pick up the purple elephant")
    assert parsed.pick.color == "purple" and parsed.pick.shape is None
    assert parsed.unmatched == ["elephant"]
    assert parsed.pick.unknown_head


def test_answers_parse(parser):
    assert parser.parse_expression("the one on the right").spatial == ["right"]
    assert parser.parse_expression("the blue one").color == "blue"
    other = parser.parse_expression("no, the other one")
    assert other.other and not other.negated
    assert parser.parse_expression("not the left one").negated


@pytest.mark.parametrize("text, pick_shape, relation, place_shape", [
    ("pick up the red cube and put it in the bowl", "cube", "in", "bowl"),
    ("take the block and stack it on the blue cube", "cube", "on", "cube"),
    ("take the ball to the bowl", "ball", "in", "bowl"),
])
def test_two_clauses_and_to_phrases_make_a_placement(parser, text, pick_shape, relation, place_shape):
    parsed = parser.parse_instruction(text)
    assert parsed.action == "place" and parsed.pick.shape == pick_shape
    assert parsed.relation == relation and parsed.place is not None and parsed.place.shape == place_shape


def test_pick_verb_keeps_relation_words_as_an_anchor(parser):
    parsed = parser.parse_instruction("grab the cube next to the bowl")
    assert parsed.action == "pick" and parsed.place is None
    assert parsed.pick.anchor_relation == "next_to"
