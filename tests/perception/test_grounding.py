"""Grounding on hand-made perceived scenes: who is meant, how sure, and what to ask."""

from __future__ import annotations

import pytest

from perception.distinguish import describe_choices, distinguishing_attributes
from perception.grounding import Answer, DialogueContext, Grounder
from perception.types import SceneObservation
from tests.perception.conftest import make_object


@pytest.fixture(scope="module")
def grounder() -> Grounder:
    return Grounder()


def test_unambiguous_request_has_one_confident_candidate(grounder, two_red_cubes):
    result = grounder.ground("pick up the blue sphere", two_red_cubes())
    assert [c.pick for c in result.prediction_set] == [4]
    assert result.confidence > 0.8


def test_two_same_colour_cubes_need_a_question(grounder, two_red_cubes):
    scene = two_red_cubes()
    result = grounder.ground("put the red cube in the green bowl", scene)
    assert sorted((c.pick, c.place) for c in result.prediction_set) == [(1, 3), (2, 3)]
    assert all(c.relation == "in" for c in result.prediction_set)
    assert result.confidence < 0.1
    cubes = [o for o in scene.objects if o.index in (1, 2)]
    first = distinguishing_attributes(cubes, "user")[0]
    assert first.attribute == "left_right"
    # index 1 sits at +y: the person across the table sees it on their right
    assert first.values == ["right", "left"]
    assert distinguishing_attributes(cubes, "robot")[0].values == ["left", "right"]
    assert describe_choices(cubes, "user") == ["the red cube on the right", "the red cube on the left"]


@pytest.mark.parametrize("viewpoint, left_index", [("user", 2), ("robot", 1)])
def test_left_depends_on_viewpoint(grounder, two_red_cubes, viewpoint, left_index):
    result = grounder.ground("pick up the red cube on the left", two_red_cubes(viewpoint))
    assert [c.pick for c in result.prediction_set] == [left_index]


def test_synonyms_ground_like_canonical_words(grounder, two_red_cubes):
    scene = two_red_cubes()
    for text in ("grab the blue marble", "take the navy orb", "pick up the blue ball"):
        assert [c.pick for c in grounder.ground(text, scene).prediction_set] == [4]
    result = grounder.ground("drop the sphere into the dish", scene)
    assert [(c.pick, c.place) for c in result.prediction_set] == [(4, 3)]


def test_unknown_object_gives_empty_set_and_names_the_word(grounder, two_red_cubes):
    result = grounder.ground("pick up the purple elephant", two_red_cubes())
    assert result.prediction_set == []
    assert "elephant" in result.unmatched
    absent = grounder.ground("pick up the yellow cube", two_red_cubes())
    assert absent.prediction_set == [] and absent.unmatched == ["yellow"]


@pytest.mark.parametrize("answer, expected", [
    ("the left one", 2), ("the one on the right", 1), ("the second one", 2), ("the first one", 1),
    ("number 2", 2), ("#1", 1), ("the other one", 2), ("not the left one", 1),
])
def test_answers_select_the_right_candidate(grounder, two_red_cubes, answer, expected):
    scene = two_red_cubes()
    result = grounder.ground("put the red cube in the green bowl", scene)
    refined = grounder.refine(result, answer, scene)
    assert [c.pick for c in refined.prediction_set] == [expected]
    assert refined.confidence > 0.8


def test_colour_answer_and_answer_that_fits_nothing(grounder):
    scene = SceneObservation(objects=[make_object(1, "red", "cube", 0.5, 0.1),
                                      make_object(2, "blue", "cube", 0.5, -0.1)])
    result = grounder.ground("pick up the cube", scene)
    assert len(result.prediction_set) == 2
    assert distinguishing_attributes(scene.objects)[0].attribute == "color"
    assert [c.pick for c in grounder.filter(result.candidates, scene, "the blue one")] == [2]
    assert grounder.filter(result.candidates, scene, "the green one") == []


def test_dialogue_context_folds_answers_and_exclusions(grounder, two_red_cubes):
    scene = two_red_cubes()
    ctx = DialogueContext(answers=[Answer(text="the one on the left")])
    assert [c.pick for c in grounder.ground("put the red cube in the bowl", scene, ctx).prediction_set] == [2]
    ctx = DialogueContext(excluded_picks=[2])
    assert [c.pick for c in grounder.ground("put the red cube in the bowl", scene, ctx).prediction_set] == [1]


def test_uncertain_perception_lowers_confidence(grounder):
    sure = SceneObservation(objects=[make_object(1, "red", "cube", 0.5, 0.1, p=0.95),
                                     make_object(2, "blue", "ball", 0.5, -0.1)])
    unsure = SceneObservation(objects=[make_object(1, "red", "cube", 0.5, 0.1, p=0.4),
                                       make_object(2, "blue", "ball", 0.5, -0.1)])
    assert grounder.ground("pick up the red cube", unsure).confidence < grounder.ground("pick up the red cube", sure).confidence


def test_spatial_anchor_and_superlative_references(grounder):
    scene = SceneObservation(objects=[
        make_object(1, "red", "cube", 0.45, 0.15), make_object(2, "green", "cube", 0.60, -0.15),
        make_object(3, "blue", "bowl", 0.62, -0.05, size="medium"), make_object(4, "blue", "cube", 0.40, -0.10, size="large"),
        make_object(5, "yellow", "ball", 0.50, 0.00),
    ])
    nearest = grounder.ground("put the cube nearest to the bowl on the blue cube", scene)
    assert (nearest.best.pick, nearest.best.place, nearest.best.relation) == (2, 4, "on")
    assert grounder.ground("grab the biggest cube", scene).best.pick == 4
    assert grounder.ground("stack the red block on the green one", scene).best.place == 2
    assert grounder.ground("pick up the leftmost cube", scene).best.pick == 2  # user's left = -y


def test_prediction_set_threshold_is_a_parameter():
    from perception.grounding import GrounderConfig

    scene = SceneObservation(objects=[make_object(1, "red", "cube", 0.5, 0.1, p=0.9),
                                      make_object(2, "orange", "cube", 0.5, -0.1, p=0.7)])
    # perception gives the orange cube P(red) = 0.3 against 0.9 for the red one: ratio 1/3
    loose = Grounder(GrounderConfig(set_ratio=0.2)).ground("pick up the red cube", scene)
    strict = Grounder(GrounderConfig(set_ratio=0.9)).ground("pick up the red cube", scene)
    assert len(loose.prediction_set) == 2 and len(strict.prediction_set) == 1


def test_size_words_are_relative_among_look_alikes(grounder):
    scene = SceneObservation(objects=[make_object(1, "red", "cube", 0.5, 0.1, size="medium"),
                                      make_object(2, "red", "cube", 0.5, -0.1, size="large")])
    assert [c.pick for c in grounder.ground("pick up the small red cube", scene).prediction_set] == [1]
    assert [c.pick for c in grounder.ground("pick up the big red cube", scene).prediction_set] == [2]
    assert [c.pick for c in grounder.ground("pick up the medium red cube", scene).prediction_set] == [1]


def test_relaxed_grounding_offers_the_look_alike_when_a_word_matches_nothing(grounder):
    scene = SceneObservation(objects=[make_object(1, "white", "cylinder", 0.5, 0.1, p=0.99),
                                      make_object(2, "blue", "ball", 0.5, -0.1)])
    assert grounder.ground("pick up the white cube", scene).prediction_set == []
    relaxed = grounder.relaxed("pick up the white cube", scene)
    assert [c.pick for c in relaxed.prediction_set] == [1] and "cube" in relaxed.unmatched
