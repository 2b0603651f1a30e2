"""Demonstration language: paraphrases and clarified dialogues that stay true to the scene."""

from __future__ import annotations

import numpy as np

from policy.training.instructions import TaskWords, eval_prompt, prompt_variants, truth_reasoning
from sim.scene import ObjectSpec, SceneSpec


def _scene(viewpoint: str = "user") -> SceneSpec:
    return SceneSpec(viewpoint=viewpoint, objects=[
        ObjectSpec(id="a", shape="cube", color="red", position=(0.55, 0.12)),
        ObjectSpec(id="b", shape="cube", color="red", position=(0.55, -0.12)),
        ObjectSpec(id="c", shape="bowl", color="green", position=(0.45, 0.0)),
    ])


def test_twins_get_a_left_right_question_answered_from_the_users_side():
    variants = prompt_variants(_scene(), TaskWords(pick="a", place="c"), np.random.default_rng(0))
    # a is at +y: the robot's left, so the person across the table calls it the right one.
    assert any("Q: the left or the right one? A: the right one" in v for v in variants)
    assert any("red cube on the right" in v for v in variants)
    assert not any("A: the left one" in v for v in variants)


def test_robot_viewpoint_flips_the_answer():
    instruction, dialogue = eval_prompt(_scene("robot"), TaskWords(pick="a", place="c"))
    assert instruction == "put the red cube in the green bowl"
    assert dialogue == [("the left or the right one?", "the left one")]


def test_truth_reasoning_names_target_and_place():
    boxes = {"a": (0.1, 0.1, 0.2, 0.2), "c": (0.4, 0.4, 0.6, 0.6)}
    r = truth_reasoning(_scene(), TaskWords(pick="a", place="c"), boxes, "approach", np.zeros((4, 7)))
    assert r.target.name == "red cube" and r.target.box == boxes["a"]
    assert r.place.name == "green bowl" and r.relation == "in"
    assert r.move.startswith("approach , hold")
    assert [o.name for o in r.visible] == ["red cube", "green bowl"]  # b is out of view


def test_every_prompt_of_a_twin_episode_says_which_twin():
    from policy.model.cot_format import names_a_side

    for seed in range(5):
        variants = prompt_variants(_scene(), TaskWords(pick="a", place="c"), np.random.default_rng(seed))
        assert variants and all(names_a_side(v) for v in variants), variants
        assert not any("left" in v.replace("left or the right", "") for v in variants)  # a is the right one
    plain = prompt_variants(_scene(), TaskWords(pick="c"), np.random.default_rng(0))
    assert not any(names_a_side(v) for v in plain)  # no twin, no side words


def test_the_truth_task_of_a_twin_episode_restates_which_twin():
    boxes = {"a": (0.6, 0.1, 0.7, 0.2), "b": (0.2, 0.1, 0.3, 0.2), "c": (0.4, 0.4, 0.6, 0.6)}
    r = truth_reasoning(_scene(), TaskWords(pick="a", place="c"), boxes, "approach", np.zeros((4, 7)))
    assert r.task == "put the red cube on the right in the green bowl"
    r = truth_reasoning(_scene(), TaskWords(pick="c"), boxes, "approach", np.zeros((4, 7)))
    assert r.task == "pick up the green bowl"


def test_eval_clarifies_a_place_with_a_same_name_twin():
    """Two black bowls of different sizes: "in the black bowl" fits both, so the eval's episode
    says which, as the agent would ask (a sentence that fits both would score a guess)."""
    from policy.training.instructions import eval_exchanges

    scene = SceneSpec(viewpoint="user", objects=[
        ObjectSpec(id="cyl", shape="cylinder", color="white", position=(0.66, -0.03)),
        ObjectSpec(id="big", shape="bowl", color="black", size="medium", position=(0.51, -0.03)),
        ObjectSpec(id="small", shape="bowl", color="black", size="small", position=(0.44, 0.13)),
    ])
    instruction, dialogue = eval_prompt(scene, TaskWords(pick="cyl", place="big"))
    assert instruction == "put the white cylinder in the black bowl"
    # "big" is at -y, the robot's right: the person across the table calls it the left one.
    assert dialogue == [("the left or the right one?", "the left one")]
    assert [e.slot for e in eval_exchanges(scene, TaskWords(pick="cyl", place="big"))] == ["place"]
    # Twins in both slots: the pick's exchange first, then the place's.
    both = eval_exchanges(_scene(), TaskWords(pick="a", place="b"))
    assert [e.slot for e in both] == ["pick", "place"]
    assert eval_prompt(_scene(), TaskWords(pick="c"))[1] == []


def test_twins_one_behind_the_other_are_told_apart_front_and_back():
    """Seed 55 of ``main.py eval``: two brown balls 19 cm apart along the table and 0.3 mm across
    it. "The left one" said nothing; the question names the axis that separates them."""
    from policy.model.cot_format import named_side

    scene = SceneSpec(viewpoint="user", objects=[
        ObjectSpec(id="near", shape="ball", color="brown", position=(0.469, 0.0388)),  # nearer the robot
        ObjectSpec(id="far", shape="ball", color="brown", position=(0.662, 0.0391)),
        ObjectSpec(id="bowl", shape="bowl", color="gray", position=(0.44, -0.12)),
    ])
    # The person stands across the table: the ball nearer the robot is the one at their back.
    assert eval_prompt(scene, TaskWords(pick="near")) == ("pick up the brown ball", [("the front or the back one?", "the back one")])
    assert eval_prompt(scene, TaskWords(pick="far"))[1] == [("the front or the back one?", "the front one")]
    robot = scene.model_copy(update={"viewpoint": "robot"})
    assert eval_prompt(robot, TaskWords(pick="near"))[1] == [("the front or the back one?", "the front one")]
    variants = prompt_variants(scene, TaskWords(pick="near", place="bowl"), np.random.default_rng(0))
    assert all(named_side(v) == "back" for v in variants), variants
    boxes = {"near": (0.5, 0.6, 0.55, 0.65), "far": (0.5, 0.3, 0.55, 0.35), "bowl": (0.2, 0.5, 0.4, 0.7)}
    r = truth_reasoning(scene, TaskWords(pick="near", place="bowl"), boxes, "approach", np.zeros((4, 7)))
    assert r.task == "put the brown ball at the back in the gray bowl"
