"""The words of relations to bowls, 'between' and table regions: parsed, then grounded."""

from __future__ import annotations

import pytest

from perception.grounding import Grounder
from perception.referring import ReferringParser
from perception.types import SceneObservation
from tests.perception.conftest import make_object


@pytest.fixture(scope="module")
def parser() -> ReferringParser:
    return ReferringParser()


@pytest.mark.parametrize("text, relation", [
    ("put the green block to the left of the yellow bowl", "left_of"),
    ("put the blue block close to the green bowl", "next_to"),
    ("put the cyan cylinder in front of the brown bowl", "in_front_of"),
    ("put the red cube near the green bowl", "next_to"),
    ("set the red cube by the green bowl", "next_to"),
    ("place the red cube beside the green bowl", "next_to"),
    ("put the red cube behind the green bowl", "behind"),
])
def test_relations_to_a_bowl(parser, text, relation):
    parsed = parser.parse_instruction(text)
    assert parsed.action == "place" and parsed.relation == relation
    assert parsed.place is not None and parsed.place.shape == "bowl" and not parsed.unmatched


def test_between_names_two_references(parser):
    parsed = parser.parse_instruction("put the green cube between the red bowl and the blue cube")
    assert parsed.relation == "between" and (parsed.pick.color, parsed.pick.shape) == ("green", "cube")
    assert (parsed.place.color, parsed.place.shape) == ("red", "bowl")
    assert (parsed.place2.color, parsed.place2.shape) == ("blue", "cube")


@pytest.mark.parametrize("text, region", [
    ("put the red cube on the left side of the table", "left_side"),
    ("move the ball to the right side of the table", "right_side"),
    ("put the red cube in the middle of the table", "middle"),
    ("put the red cube in the front right corner", "front_right"),
    ("place the red cube in the back-left corner of the table", "back_left"),
    ("put the red cube at the back of the table", "back"),
    ("pick up the red cube and put it at the front of the table", "front"),
])
def test_table_regions(parser, text, region):
    parsed = parser.parse_instruction(text)
    assert parsed.action == "place" and parsed.relation == "region" and parsed.region == region
    assert parsed.place is None and not parsed.unmatched and parsed.pick.shape in ("cube", "ball")


@pytest.mark.parametrize("text", ["pick up the cube in the middle", "put the red cube on the left",
                                  "put the red cube on the left side of the green bowl"])
def test_side_words_of_objects_are_not_regions(parser, text):
    assert parser.parse_instruction(text).region is None


def _scene() -> SceneObservation:
    return SceneObservation(objects=[
        make_object(1, "green", "cube", 0.55, 0.12),
        make_object(2, "red", "bowl", 0.45, 0.0, size="large"),
        make_object(3, "blue", "cube", 0.60, -0.15),
    ])


def test_grounding_between_gives_both_references():
    result = Grounder().ground("put the green cube between the red bowl and the blue cube", _scene())
    best = result.prediction_set[0]
    assert (best.pick, best.place, best.place2, best.relation) == (1, 2, 3, "between")
    assert len(result.prediction_set) == 1 and result.parse["place2"]


def test_grounding_a_region_gives_the_pick_and_the_region():
    result = Grounder().ground("put the green cube in the front left corner of the table", _scene())
    best = result.prediction_set[0]
    assert (best.pick, best.place, best.relation, best.region) == (1, None, "region", "front_left")
