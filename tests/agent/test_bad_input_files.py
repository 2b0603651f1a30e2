"""Bad input files are reported as one line naming the file and field; the rest still runs
(issue 28, defects 2, 4 and 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.run_folder import inside, safe_name
from agent.runner import RunConfig, run_all
from agent.scenario import load_scenarios

BUNDLED = Path(__file__).resolve().parents[2] / "scenarios"
EXPERT = RunConfig(policy="expert", consistency="off", calibration="off")


def test_a_binary_yaml_is_one_error_and_the_good_scenarios_beside_it_run(tmp_path: Path) -> None:
    from main import main

    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "a-binary.yaml").write_bytes(b"name: x\n\xff\xfe\x00\x89PNG\r\n\x1a\n\x80\x81")
    (folder / "good.yaml").write_text((BUNDLED / "unambiguous-pick.yaml").read_text())
    out = tmp_path / "out.json"
    code = main(["episodes", str(folder), "--report", str(out), "--run-dir", str(tmp_path / "run"), "--no-progress",
                 "--policy", "expert", "--consistency", "off", "--calibration", "off"])
    rows = json.loads(out.read_text())["episodes"]
    bad = [r for r in rows if r["error"]]
    assert code == 1 and len(rows) == 2 and len(bad) == 1
    assert bad[0]["error"].startswith(str(folder / "a-binary.yaml")) and "UTF-8" in bad[0]["error"]
    assert "\n" not in bad[0]["error"]
    assert [r["passed"] for r in rows if not r["error"]] == [True]


def _scene_file(tmp_path: Path, objects: list[str]) -> Path:
    body = "\n".join(f"    - {o}" for o in objects)
    path = tmp_path / "scene.yaml"
    path.write_text(f"""name: crowded
scene:
  objects:
{body}
instruction: pick up the red cube
user: {{intent: {{pick: a}}}}
expect: {{success: true}}
""")
    return path


def test_two_objects_in_one_place_are_rejected_at_load_with_file_and_field(tmp_path: Path) -> None:
    path = _scene_file(tmp_path, ["{id: a, shape: cube, color: red, position: [0.55, 0.10]}",
                                  "{id: b, shape: cube, color: blue, position: [0.56, 0.10]}"])
    loaded = load_scenarios([path])
    assert loaded.scenarios == []
    assert str(loaded.errors[0]).startswith(f"{path}: scenario 'crowded': scene.objects: objects 'a' and 'b' overlap")


def test_touching_objects_still_load(tmp_path: Path) -> None:
    # medium cubes: footprint radius 3.75 cm each, so 7.5 cm apart touch and are accepted
    path = _scene_file(tmp_path, ["{id: a, shape: cube, color: red, position: [0.55, 0.0]}",
                                  "{id: b, shape: cube, color: blue, position: [0.55, 0.075]}"])
    assert load_scenarios([path]).errors == []


def test_more_than_16_objects_are_rejected_at_load(tmp_path: Path) -> None:
    objects = [f"{{id: {'a' if i == 0 else f'o{i}'}, shape: cube, color: red, size: small, "
               f"position: [{0.36 + 0.07 * (i % 5):.2f}, {-0.24 + 0.07 * (i // 5):.2f}]}}" for i in range(17)]
    loaded = load_scenarios([_scene_file(tmp_path, objects)])
    assert loaded.scenarios == [] and "scene.objects: List should have at most 16 items" in str(loaded.errors[0])


@pytest.mark.parametrize("name", ["../../escaped", "/etc/passwd", "a/../../b", "..", "x\\..\\y", "\x00nul", "ü" * 300])
def test_safe_name_is_one_path_component(tmp_path: Path, name: str) -> None:
    safe = safe_name(name)
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".") and 0 < len(safe) <= 80
    assert inside(tmp_path, tmp_path / safe / "x.jsonl")


def test_a_scenario_named_to_escape_writes_only_inside_its_run_folder(tmp_path: Path) -> None:
    text = (BUNDLED / "unambiguous-pick.yaml").read_text()
    first = next(line for line in text.splitlines() if line.startswith("name:"))
    path = tmp_path / "sub" / "evil.yaml"
    path.parent.mkdir()
    path.write_text(text.replace(first, "name: ../../escaped"))
    loaded = load_scenarios([path])
    run = tmp_path / "sub" / "run"
    report = run_all(loaded.scenarios, loaded.errors, EXPERT, run)
    row = report.episodes[0]
    assert row.error is None and row.name == "../../escaped"
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != path]
    assert written and all(inside(run, p) for p in written), [str(p) for p in written if not inside(run, p)]


def test_a_key_with_a_line_break_is_reported_on_one_line(tmp_path) -> None:
    from agent.scenario import load_file

    path = tmp_path / "odd.yaml"
    path.write_text('name: x\nscene: {objects: [{id: a, shape: cube, color: red, position: [0.5, 0.0]}]}\n'
                    'instruction: "pick up the red cube"\nuser: {intent: {pick: a, "odd\\nkey": 1}}\n'
                    'expect: {success: true}\n')
    errors = load_file(path).errors
    assert len(errors) == 1 and "\n" not in str(errors[0]) and "odd\\nkey" in str(errors[0])
