"""Relations defined by the objects' footprints, done end to end by the scripted expert.

Each episode runs the whole agent (perception, grounding, graph, simulated person) with the
privileged expert moving the arm (``RunConfig(policy="expert")``, the ``--policy expert`` path);
success is the simulator's footprint check (``sim/relations.py``): beside a bowl's rim, not
10 cm from its centre (which is inside a large bowl)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.runner import RunConfig, run_scenario
from agent.scenario import Scenario, parse_scenario

EXPERT = RunConfig(consistency="off", policy="expert")
#: A large yellow bowl (9 cm radius) in the middle, a small green cube to move, a blue cylinder.
OBJECTS = [
    {"id": "bowl", "shape": "bowl", "color": "yellow", "size": "large", "position": [0.52, 0.0]},
    {"id": "cube", "shape": "cube", "color": "green", "size": "small", "position": [0.40, 0.20]},
    {"id": "cyl", "shape": "cylinder", "color": "blue", "size": "medium", "position": [0.52, -0.25]},
]


def _scenario(name: str, instruction: str, intent: dict[str, Any], viewpoint: str = "user") -> Scenario:
    """Loaded as a scenario file is: the contract's checks, feasibility included."""
    parsed = parse_scenario({
        "name": name, "scene": {"viewpoint": viewpoint, "objects": OBJECTS}, "instruction": instruction,
        "user": {"intent": intent}, "expect": {"success": True, "ask": False}}, "test.yaml")
    assert isinstance(parsed, Scenario), str(parsed)
    return parsed


def _run(tmp_path: Path, scenario: Scenario) -> None:
    result = run_scenario(scenario, EXPERT, tmp_path, seed=0)
    assert result.error is None and result.success and result.passed, result.message
    assert result.moved == ["cube"]


@pytest.mark.parametrize("words,relation", [
    ("to the left of", "left_of"),
    ("to the right of", "right_of"),
    ("in front of", "in_front_of"),
    ("behind", "behind"),
    ("close to", "next_to"),
])
def test_the_expert_puts_the_cube_beside_the_bowl(tmp_path: Path, words: str, relation: str) -> None:
    scenario = _scenario(f"bowl-{relation}", f"put the green block {words} the yellow bowl",
                         {"pick": "cube", "place": "bowl", "relation": relation})
    _run(tmp_path, scenario)


def test_the_robots_own_left_in_the_robot_viewpoint(tmp_path: Path) -> None:
    scenario = _scenario("bowl-left-robot", "put the green cube to the left of the yellow bowl",
                         {"pick": "cube", "place": "bowl", "relation": "left_of"}, viewpoint="robot")
    _run(tmp_path, scenario)


def test_the_expert_puts_the_cube_between_the_bowl_and_the_cylinder(tmp_path: Path) -> None:
    scenario = _scenario("between", "put the green cube between the yellow bowl and the blue cylinder",
                         {"pick": "cube", "place": "bowl", "place2": "cyl", "relation": "between"})
    _run(tmp_path, scenario)


def test_the_expert_puts_the_cube_in_a_corner_of_the_table(tmp_path: Path) -> None:
    scenario = _scenario("corner", "put the green cube in the front right corner of the table",
                         {"pick": "cube", "region": "front_right"})
    _run(tmp_path, scenario)


def test_the_expert_puts_the_cube_on_the_left_side_of_the_table(tmp_path: Path) -> None:
    scenario = _scenario("left-side", "put the green cube on the left side of the table",
                         {"pick": "cube", "region": "left_side"})
    _run(tmp_path, scenario)


def test_an_ambiguous_second_reference_of_between_gets_one_question_naming_the_difference(tmp_path: Path) -> None:
    # Two cylinders: "between the yellow bowl and the cylinder" does not say which.
    objects = [*OBJECTS, {"id": "cyl2", "shape": "cylinder", "color": "red", "size": "medium", "position": [0.30, -0.15]}]
    parsed = parse_scenario({
        "name": "between-which", "scene": {"objects": objects},
        "instruction": "put the green cube between the yellow bowl and the cylinder",
        "user": {"intent": {"pick": "cube", "place": "bowl", "place2": "cyl", "relation": "between"}},
        "expect": {"success": True, "ask": True}}, "test.yaml")
    assert isinstance(parsed, Scenario), str(parsed)
    result = run_scenario(parsed, EXPERT, tmp_path, seed=0)
    assert result.error is None and result.success and result.passed, result.message
    assert result.asked == 1 and result.moved == ["cube"]
    question = next(q for q in result.questions)
    assert question.startswith("Between the yellow bowl and which cylinder:") and "blue" in question and "red" in question
