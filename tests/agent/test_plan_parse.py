"""Compound requests read into pick groups, expanded on a look into a plan, said and corrected."""

from __future__ import annotations

import re
from typing import Optional

import pytest

from agent.plan import announce, summary
from agent.plan_corrections import apply_plan_correction, read_plan_correction
from agent.plan_parse import expand, parse_compound
from perception.types import PerceivedObject, SceneObservation


def _obj(index: int, color: str, shape: str, x: float, y: float) -> PerceivedObject:
    return PerceivedObject(index=index, color=color, shape=shape, size="small", position=(x, y, 0.02), box=(0, 0, 1, 1))


SCENE = SceneObservation(objects=[
    _obj(1, "red", "cube", 0.55, 0.15), _obj(2, "red", "cube", 0.62, -0.15), _obj(3, "blue", "cube", 0.40, 0.22),
    _obj(4, "green", "cube", 0.66, 0.05), _obj(5, "yellow", "ball", 0.38, -0.2),
    _obj(6, "green", "bowl", 0.45, -0.02), _obj(7, "red", "bowl", 0.70, -0.25),
])


def _no_grounder(words: str) -> Optional[int]:
    return None


def _plan(text: str):  # type: ignore[no-untyped-def]
    request = parse_compound(text)
    assert request is not None, text
    return expand(request, SCENE, _no_grounder)


@pytest.mark.parametrize("text", [
    "put the red cube in the green bowl", "pick up the cube and put it in the bowl",
    "put the cube between the red bowl and the blue cube", "go ahead and put the red block in the blue bowl",
    "could you put the cube in the bowl, please", "pick up the blue ball", "put the second cube in the bowl",
    "put the orange can next to the black block", "place the blue cube next to the cyan dish",
])
def test_a_single_object_request_is_not_a_plan(text: str) -> None:
    assert parse_compound(text) is None


def test_a_conjunction_is_one_step_per_phrase_and_the_robot_says_it() -> None:
    plan = _plan("put the red cube, the blue cube and the yellow ball in the green bowl")
    assert [s.instruction for s in plan.steps] == ["put the red cube in the green bowl", "put the blue cube in the green bowl",
                                                   "put the yellow ball in the green bowl"]
    assert all(s.pick is None for s in plan.steps)  # words: grounded (and asked about) when the step starts
    assert announce(plan) == ("I'll do three things: the red cube, then the blue cube, then the yellow ball, "
                              "each into the green bowl.")


def test_quantifiers_counts_and_exclusions_choose_from_the_look() -> None:
    assert [s.pick.index for s in _plan("put all the red blocks in the green bowl").steps] == [1, 2]
    assert [s.pick.index for s in _plan("put every cube except the green one in the green bowl").steps] == [3, 1, 2]
    assert [s.pick.index for s in _plan("put all the cubes in the green bowl but not the blue one").steps] == [1, 2, 4]
    two = _plan("put two of the cubes into the green bowl")
    assert [s.pick.index for s in two.steps] == [3, 1]  # nearest the robot first
    assert [s.pick.index for s in _plan("clear the table into the green bowl").steps] == [5, 3, 1, 2, 4]
    few = _plan("put three yellow balls in the green bowl")
    assert len(few.steps) == 1 and few.notes == ["I see only 1 yellow ball."]


def test_sequences_keep_the_order_and_share_a_placement() -> None:
    plan = _plan("first the ball, then the blue cube, into the green bowl")
    assert plan.ordered and [s.instruction for s in plan.steps] == ["put the ball in the green bowl",
                                                                    "put the blue cube in the green bowl"]
    mixed = _plan("put the yellow ball in the green bowl and then put the blue cube in the red bowl")
    assert announce(mixed) == "I'll do two things: the yellow ball into the green bowl, then the blue cube into the red bowl."
    following = _plan("put the yellow ball in the green bowl, next the blue cube")
    assert [s.words for s in following.steps] == ["the yellow ball", "the blue cube"]
    rest = _plan("put the blue cube in the green bowl first, then the rest of the cubes")
    assert [s.words for s in rest.steps][0] == "the blue cube" and {s.pick.index for s in rest.steps[1:]} == {1, 2, 4}


def test_matching_puts_each_in_the_bowl_of_its_colour_and_says_what_has_none() -> None:
    plan = _plan("put each block in the bowl of its colour")
    assert sorted(s.instruction for s in plan.steps) == ["put the green cube in the green bowl",
                                                         "put the red cube on the left in the red bowl",
                                                         "put the red cube on the right in the red bowl"]
    assert plan.notes == ["There is no blue bowl for the blue cube, so I'll leave it."]
    assert len(_plan("sort the cubes into the matching bowls").steps) == 3


def test_plan_corrections_skip_reorder_add_widen_and_stop() -> None:
    plan = _plan("put the red cube, the blue cube and the yellow ball in the green bowl")
    skip = read_plan_correction("skip the blue one")
    assert skip is not None and skip.kind == "skip"
    skipped, reply = apply_plan_correction(plan, skip)
    assert [s.status for s in skipped.steps] == ["pending", "skipped", "pending"] and reply == "Okay, I'll skip the blue cube."
    first, _ = apply_plan_correction(plan, read_plan_correction("do the ball first"))  # type: ignore[arg-type]
    assert [s.words for s in first.steps] == ["the yellow ball", "the red cube", "the blue cube"]
    more, _ = apply_plan_correction(plan, read_plan_correction("also the green one"))  # type: ignore[arg-type]
    assert more.steps[-1].instruction == "put the green one in the green bowl"
    reds = _plan("put two of the red blocks in the green bowl")
    assert len(reds.steps) == 2
    stop, said = apply_plan_correction(plan, read_plan_correction("stop after this one"))  # type: ignore[arg-type]
    assert stop.stop_after and said == "Okay, I'll stop after this one."
    cubes = _plan("put two of the cubes in the green bowl")
    widened, said = apply_plan_correction(cubes, read_plan_correction("no, all of them"))  # type: ignore[arg-type]
    assert {s.pick.index for s in widened.steps} == {1, 2, 3, 4} and said.startswith("Okay, all of them")


@pytest.mark.parametrize("text", ["no, the other one", "no, the blue one", "put it in the green bowl instead", "stop",
                                  "wait", "go on", "never mind", "put it back", "nice"])
def test_single_step_corrections_are_not_plan_corrections(text: str) -> None:
    assert read_plan_correction(text) is None


def test_the_summary_says_what_was_done_and_what_was_not() -> None:
    plan = _plan("put the red cube, the blue cube and the yellow ball in the green bowl")
    plan = plan.with_step(0, status="done").with_step(1, status="skipped").with_step(2, status="failed")
    assert summary(plan) == "Done: the red cube. I could not do the yellow ball. I skipped the blue cube, as you said."


def test_no_correction_phrase_of_the_project_reads_as_a_compound_request() -> None:
    import agent.correction_phrases as phrases
    import agent.suite_corrections as suite

    said: list[str] = []
    for module in (phrases, suite):
        for value in vars(module).values():
            groups = value.values() if isinstance(value, dict) else [value]
            for group in groups:
                if isinstance(group, (tuple, list)) and group and all(isinstance(x, str) for x in group):
                    said += [re.sub(r"\{\w+\}", "red", x) for x in group]
    assert len(said) > 50
    assert [s for s in said if parse_compound(s) is not None] == []


def test_one_up_front_question_settles_every_ambiguous_step_its_answer_names() -> None:
    from agent.plan_questions import ambiguous_steps, settle, up_front_question

    plan = _plan("put the red cube and the cube in the green bowl")
    options = {"put the red cube in the green bowl": [1, 2], "put the cube in the green bowl": [1, 2, 3, 4]}
    ambiguous = ambiguous_steps(plan, SCENE, lambda words: options[words])
    assert list(ambiguous) == [0, 1]
    question = up_front_question(plan, SCENE, ambiguous)
    assert question.text.startswith("Before I start: the red cube: do you mean") and " And the cube: " in question.text
    settled, which = settle("the one on the left, and the blue one", plan, SCENE, ambiguous)
    assert which == [0, 1] and settled.steps[0].pick.index == 2 and settled.steps[1].pick.index == 3


def test_every_request_of_the_multistep_suite_plans_its_steps() -> None:
    """Each of the suite's 200 measured requests (every family and phrasing) plans exactly the
    objects the person means (a skip family's plan also holds the step they will skip)."""
    from agent.suites import make_suite
    from benchmarks.bench_plan import _perceived

    for scenario in make_suite("multistep", list(range(11000, 11200))):
        scene = _perceived(scenario.scene)
        request = parse_compound(scenario.instruction)
        assert request is not None, scenario.instruction
        plan = expand(request, scene, _no_grounder)
        by_index = {o.index: o.sim_id for o in scene.objects}
        meant = {i.pick for i in scenario.user.intents}
        chosen = {by_index[s.pick.index] for s in plan.steps if s.pick is not None}
        assert chosen <= meant, scenario.instruction
        extra = 1 if scenario.family == "skip" else 0
        assert len(plan.steps) == len(meant) + extra, (scenario.instruction, [s.words for s in plan.steps])
        assert plan.ordered == scenario.user.ordered or scenario.family == "rest", scenario.instruction


def test_a_plan_says_which_named_objects_it_cannot_see_yet() -> None:
    from agent.plan import unseen_note

    assert unseen_note(["the red cube"]) == "I can't see the red cube right now; I'll ask when I get to it."
    assert unseen_note(["the red cube", "the blue cube"]) == \
        "I can't see the red cube or the blue cube right now; I'll ask when I get to them."
