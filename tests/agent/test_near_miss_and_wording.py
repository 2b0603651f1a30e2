"""Misreadings become ONE yes/no question (after one more look), truly absent things are
refused, and what the robot says is grammatical."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from agent.dialogue import cannot_see_message
from agent.driver import Finished, Question
from agent.near_miss import near_misses
from agent.runner import RunConfig, run_scenario
from agent.scenario import Scenario
from perception.types import PerceivedObject, SceneObservation
from sim.scene import ObjectSpec, SceneSpec
from tests.agent.test_graph_scenarios import Rig, rig  # noqa: F401 (pytest fixture)

# Dialogue tests: the privileged expert moves (fast, exact); the learned policy has its own tests.
FAST = RunConfig(consistency="off", policy="expert")
WHITE_CUBE = SceneSpec(objects=[
    ObjectSpec(id="a", shape="cube", color="white", size="medium", position=(0.55, 0.10)),
    ObjectSpec(id="b", shape="ball", color="blue", size="medium", position=(0.55, -0.12)),
    ObjectSpec(id="c", shape="bowl", color="green", position=(0.42, 0.0)),
])


def _as_cylinder(scene: SceneObservation, look: int) -> SceneObservation:
    """Every look reads the white cube as a white cylinder (a persistent shape misread)."""
    objs = [o.model_copy(update={"shape": "cylinder", "shape_scores": {"cylinder": 0.98, "cube": 0.02}})
            if o.sim_id == "a" else o for o in scene.objects]
    return scene.model_copy(update={"objects": objs})


@pytest.mark.parametrize("what, said", [
    ("another red cube", "I can't see another red cube, so I won't move."),
    ("the purple elephant", "I can't see a purple elephant, so I won't move."),
    ("an orange ball", "I can't see an orange ball, so I won't move."),
    ("the  apple", "I can't see an apple, so I won't move."),
])
def test_refusals_use_the_right_article(what: str, said: str) -> None:
    assert cannot_see_message(what) == said


def test_shape_misread_becomes_one_yes_no_question(rig: Callable[..., Rig]) -> None:
    r = rig(scene=WHITE_CUBE, look=_as_cylinder)
    question = r.session.start("pick up the white cube")
    assert isinstance(question, Question) and question.yes_no
    assert question.text == "I see a white cylinder, not a white cube. Is that the one you mean?"
    assert [c.sim_id for c in question.candidates] == ["a"]
    done = r.session.resume("yes")
    assert isinstance(done, Finished) and done.success and done.acted_on == "a"
    assert done.asked == 1 and done.reperceptions == 1  # looked again before asking


def test_no_to_the_near_miss_ends_without_a_second_guess(rig: Callable[..., Rig]) -> None:
    r = rig(scene=WHITE_CUBE, look=_as_cylinder)
    assert isinstance(r.session.start("pick up the white cube"), Question)
    done = r.session.resume("no")
    assert isinstance(done, Finished) and done.status == "refused" and done.steps == 0
    assert done.message == "I can't see a white cube, so I won't move."


def test_truly_absent_thing_is_refused_without_a_question(rig: Callable[..., Rig]) -> None:
    r = rig(scene=WHITE_CUBE)
    done = r.session.start("pick up the purple elephant")
    assert isinstance(done, Finished) and done.status == "refused" and done.asked == 0 and done.steps == 0
    assert done.message == "I can't see a purple elephant, so I won't move."


def _yellow_cylinder(persist: bool) -> Scenario:
    return Scenario.model_validate({
        "name": "yellow-seen-orange",
        "scene": {"objects": [
            {"id": "y", "shape": "cylinder", "color": "yellow", "size": "medium", "position": [0.55, 0.12]},
            {"id": "w", "shape": "cylinder", "color": "white", "size": "medium", "position": [0.55, -0.12]},
            {"id": "g", "shape": "cube", "color": "green", "size": "medium", "position": [0.45, 0.0]},
        ]},
        "instruction": "pick up the yellow cylinder",
        "user": {"intent": {"pick": "y"}},
        "faults": [{"type": "misperceive_color", "object": "y", "as": "orange", "persist": persist}],
        "expect": {"success": True, "ask": {"min": 0, "max": 1}},
    })


def test_near_miss_colour_among_same_shapes_looks_again_then_acts(tmp_path: Path) -> None:
    result = run_scenario(_yellow_cylinder(persist=False), FAST, tmp_path)
    assert result.passed and result.success and result.acted_on == "y"
    assert result.reperceptions == 1 and result.asked == 0


def test_persistent_near_miss_asks_about_the_closest_colour(tmp_path: Path) -> None:
    result = run_scenario(_yellow_cylinder(persist=True), FAST, tmp_path)
    assert result.passed and result.success and result.acted_on == "y"
    assert result.reperceptions == 1
    assert result.questions == ["I see an orange cylinder, not a yellow cylinder. Is that the one you mean?"]


def _obj(index: int, color: str, shape: str, **scores: float) -> PerceivedObject:
    return PerceivedObject(index=index, color=color, shape=shape, size="medium", position=(0.5, 0.0, 0.02),
                           box=(0, 0, 4, 4), shape_scores={shape: 1.0, **scores})


def test_near_misses_differ_in_one_attribute_only() -> None:
    objs = [_obj(1, "orange", "cylinder"), _obj(2, "white", "cylinder"), _obj(3, "blue", "cube", cylinder=0.15),
            _obj(4, "yellow", "ball")]
    # Orange is the closest colour to yellow; a blue cube differs in colour AND shape.
    found = [o.index for o in near_misses(objs, "yellow", "cylinder")]
    assert found[0] == 1 and sorted(found) == [1, 2, 4]
    assert near_misses(objs, "yellow", "cylinder", excluded=[1, 4, 2]) == []
    assert near_misses(objs, None, "elephant") == []
