"""Scenario files: the contract loads; a bad scenario is reported by file and field, the rest still load."""

from __future__ import annotations

from pathlib import Path

from agent.scenario import Expect, load_file, load_scenarios

TWO_RED_CUBES = """
name: two-red-cubes
scene:
  viewpoint: user
  objects:
    - {id: a, shape: cube, color: red, size: small, position: [0.55, 0.12]}
    - {id: b, shape: cube, color: red, size: small, position: [0.55, -0.12]}
    - {id: c, shape: bowl, color: green, position: [0.45, 0.0]}
instruction: "put the red cube in the green bowl"
user:
  intent: {pick: a, place: c, relation: in}
  replies: ["the one on the right"]
  channel: text
  patience: 3
  interjections: [{after_step: 20, say: "no, the other one"}]
faults:
  - {type: misperceive_color, object: a, as: orange}
expect:
  success: true
  ask: true
"""

SCENE = "scene: {objects: [{id: a, shape: cube, color: red, position: [0.5, 0.1]}, {id: c, shape: bowl, color: green, position: [0.5, -0.1]}]}"


def _entry(name: str, pick: str = "a", extra: str = "") -> str:
    return (f"- name: {name}\n  {SCENE}\n  instruction: pick up the red cube\n"
            f"  user: {{intent: {{pick: {pick}}}}}\n  expect: {{success: true, ask: false}}\n{extra}")


def test_architecture_example_loads_with_every_field(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(TWO_RED_CUBES)
    result = load_file(path)
    assert result.errors == []
    (scenario,) = result.scenarios
    assert scenario.user.intent.place == "c" and scenario.user.intent.to_task().kind == "place_in"
    assert scenario.user.replies == ["the one on the right"]
    assert scenario.user.interjections[0].after_step == 20
    assert scenario.faults[0].as_ == "orange"
    assert scenario.expect.ask_ok(1) and not scenario.expect.ask_ok(0)


def test_list_file_loads_every_scenario_in_order(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(_entry("first") + _entry("second"))
    assert [s.name for s in load_file(path).scenarios] == ["first", "second"]


def test_unknown_intent_object_names_file_scenario_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(_entry("fine") + _entry("x", pick="z"))
    result = load_file(path)
    assert [s.name for s in result.scenarios] == ["fine"]
    (error,) = result.errors
    assert str(error) == f"{path}: scenario 2 'x': user.intent.pick: 'z' is not an object in the scene"


def test_schema_error_names_the_nested_field(tmp_path: Path) -> None:
    path = tmp_path / "colour.yaml"
    path.write_text(_entry("y").replace("color: red", "color: rde", 1))
    (error,) = load_file(path).errors
    assert error.field == "scene.objects.0.color" and "rde" in str(error) and str(path) in str(error)


def test_ask_range_and_bowl_pick_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "bowl.yaml"
    path.write_text(_entry("bowl", pick="c"))
    (error,) = load_file(path).errors
    assert error.field == "user.intent.pick" and "cannot be picked up" in error.message
    assert Expect(success=True, ask={"min": 1, "max": 2}).ask_ok(2)
    assert not Expect(success=True, ask=False).ask_ok(1)


def test_folder_with_one_bad_file_still_loads_the_rest(tmp_path: Path) -> None:
    (tmp_path / "a_good.yaml").write_text(TWO_RED_CUBES)
    (tmp_path / "b_broken.yaml").write_text("name: [unclosed\n")
    (tmp_path / "c_good.yaml").write_text(_entry("third"))
    result = load_scenarios([tmp_path])
    assert [s.name for s in result.scenarios] == ["two-red-cubes", "third"]
    (error,) = result.errors
    assert "b_broken.yaml" in str(error) and "YAML" in str(error)


def test_missing_path_is_an_error_not_a_crash(tmp_path: Path) -> None:
    result = load_scenarios([tmp_path / "nope.yaml"])
    assert result.scenarios == [] and "no such file" in str(result.errors[0])


def test_spoken_person_voice_and_noise_level_are_selectable(tmp_path: Path) -> None:
    path = tmp_path / "voice.yaml"
    path.write_text(TWO_RED_CUBES.replace("channel: text", "channel: speech\n  voice: espeak\n  snr_db: 20"))
    (scenario,) = load_file(path).scenarios
    assert (scenario.user.channel, scenario.user.voice, scenario.user.snr_db) == ("speech", "espeak", 20.0)
    path.write_text(TWO_RED_CUBES.replace("channel: text", "channel: speech\n  voice: robot9000"))
    (error,) = load_file(path).errors
    assert error.field == "user.voice" and "robot9000" in str(error)
