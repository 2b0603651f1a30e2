"""``user.intent`` as a list of steps: validation, one-line errors, and the all-steps check."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agent.scenario import ScenarioError, load_file, parse_scenario
from sim.scene import SceneSpec
from sim.success import WorldState, check_all
from sim.tasks import TaskSpec

SCENE = {"objects": [
    {"id": "a", "shape": "cube", "color": "red", "size": "small", "position": [0.55, 0.12]},
    {"id": "b", "shape": "cube", "color": "blue", "size": "small", "position": [0.55, -0.12]},
    {"id": "c", "shape": "bowl", "color": "green", "size": "large", "position": [0.45, 0.0]},
]}


def _scenario(user: dict) -> object:
    return parse_scenario({"name": "two", "scene": SCENE, "instruction": "put the red cube and the blue cube in the bowl",
                           "user": user, "expect": {"success": True}}, "f.yaml")


def test_a_list_of_intents_loads_and_a_mapping_keeps_its_meaning() -> None:
    many = _scenario({"intent": [{"pick": "a", "place": "c"}, {"pick": "b", "place": "c"}], "ordered": True})
    assert not isinstance(many, ScenarioError)
    assert [i.pick for i in many.user.intents] == ["a", "b"] and many.user.ordered and many.user.multi
    one = _scenario({"intent": {"pick": "a", "place": "c"}})
    assert not isinstance(one, ScenarioError)
    assert one.user.intents == [one.user.first] and not one.user.multi and one.user.first.pick == "a"


def test_malformed_lists_name_the_file_and_the_field() -> None:
    cases = {
        "f.yaml: scenario 'two': user.intent.1.pick: 'z' is not an object in the scene":
            {"intent": [{"pick": "a", "place": "c"}, {"pick": "z", "place": "c"}]},
        "f.yaml: scenario 'two': user.intent.1.pick: 'a' is already moved by user.intent.0":
            {"intent": [{"pick": "a", "place": "c"}, {"pick": "a", "place": "c"}]},
        "f.yaml: scenario 'two': user.intent.1.place: 'a' is moved by user.intent.0; a step's reference must stay where it is (and 1 more)":
            {"intent": [{"pick": "a", "place": "c"}, {"pick": "b", "place": "a", "relation": "left_of"}]},
        "f.yaml: scenario 'two': user.ordered: only a list of intents has an order":
            {"intent": {"pick": "a", "place": "c"}, "ordered": True},
        "f.yaml: scenario 'two': user.intent.0.colour: Extra inputs are not permitted":
            {"intent": [{"pick": "a", "colour": "red"}]},
    }
    for message, user in cases.items():
        error = _scenario(user)
        assert isinstance(error, ScenarioError) and str(error) == message
    empty = _scenario({"intent": []})
    assert isinstance(empty, ScenarioError) and str(empty).startswith("f.yaml: scenario 'two': user.intent: ")
    assert "\n" not in str(empty)


def test_a_bad_step_in_a_file_does_not_stop_the_others(tmp_path: Path) -> None:
    import yaml

    good = {"name": "ok", "scene": SCENE, "instruction": "put both cubes in the bowl", "expect": {"success": True},
            "user": {"intent": [{"pick": "a", "place": "c"}, {"pick": "b", "place": "c"}]}}
    bad = {**good, "name": "bad", "user": {"intent": [{"pick": "a", "place": "c"}, {"pick": "b", "relation": "region"}]}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump([good, bad]))
    loaded = load_file(path)
    assert [s.name for s in loaded.scenarios] == ["ok"]
    assert str(loaded.errors[0]) == f"{path}: scenario 2 'bad': user.intent.1.region: relation 'region' needs a region name"


def test_all_steps_are_checked_with_the_other_steps_objects_exempt() -> None:
    scene = SceneSpec.model_validate(SCENE)
    start = {"a": np.array([0.55, 0.12, 0.02]), "b": np.array([0.55, -0.12, 0.02]), "c": np.array([0.45, 0.0, 0.0])}
    in_bowl = {**start, "a": np.array([0.45, 0.0, 0.025])}
    tasks = [TaskSpec(pick="a", place="c"), TaskSpec(pick="b", place="c")]
    one = check_all(tasks, scene, WorldState(in_bowl, start, bottoms={"a": 0.005, "b": 0.0, "c": 0.0}))
    assert one.done == (True, False) and one.steps_done == 1 and not one.success
    both = {**in_bowl, "b": np.array([0.47, 0.0, 0.025])}
    two = check_all(tasks, scene, WorldState(both, start, bottoms={"a": 0.005, "b": 0.005, "c": 0.0}))
    assert two.success and two.steps_done == 2
