"""Scenario files with between and table regions: valid ones load, malformed ones give one line
that names the file, the scenario and the field (docs/SCENARIOS.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.scenario import load_file

SCENE = """  scene: {objects: [{id: a, shape: cube, color: red, position: [0.40, 0.20]},
                     {id: b, shape: bowl, color: green, size: large, position: [0.52, 0.0]},
                     {id: c, shape: cube, color: blue, position: [0.52, -0.30]}]}
  instruction: put it somewhere
  expect: {success: true}
"""


def _load(tmp_path: Path, intent: str):
    path = tmp_path / "bad.yaml"
    path.write_text(f"- name: fine\n{SCENE}  user: {{intent: {{pick: a, place: b, relation: in}}}}\n"
                    f"- name: x\n{SCENE}  user: {{intent: {intent}}}\n")
    return path, load_file(path)


@pytest.mark.parametrize("intent", [
    "{pick: a, place: b, place2: c, relation: between}",
    "{pick: a, region: front_right}",
    "{pick: a, relation: region, region: back_left}",
    "{pick: a, place: b, relation: left_of}",
])
def test_new_relations_load(tmp_path: Path, intent: str) -> None:
    _, loaded = _load(tmp_path, intent)
    assert not loaded.errors and len(loaded.scenarios) == 2


@pytest.mark.parametrize("intent, field, words", [
    ("{pick: a, place: b, relation: between}", "user.intent.place2", "needs place2"),
    ("{pick: a, place: b, place2: b, relation: between}", "user.intent.place2", "must differ"),
    ("{pick: a, place: b, place2: z, relation: between}", "user.intent.place2", "'z' is not an object"),
    ("{pick: a, place: b, place2: c, relation: left_of}", "user.intent.place2", "only relation 'between'"),
    ("{pick: a, region: top_corner}", "user.intent.region", "'top_corner'"),
    ("{pick: a, relation: region}", "user.intent.region", "needs a region name"),
    ("{pick: a, place: b, relation: region, region: middle}", "user.intent.place", "takes no reference"),
    ("{pick: a, place: b, relation: behind, region: front}", "user.intent.region", "goes with relation 'region'"),
    ("{pick: a, place: b, relation: sideways}", "user.intent.relation", "'sideways'"),
])
def test_a_malformed_relation_or_region_is_one_line_naming_file_and_field(tmp_path: Path, intent: str, field: str,
                                                                         words: str) -> None:
    path, loaded = _load(tmp_path, intent)
    assert [s.name for s in loaded.scenarios] == ["fine"] and len(loaded.errors) == 1
    line = str(loaded.errors[0])
    assert "\n" not in line and line.startswith(f"{path}: scenario 2 'x': {field}: ") and words in line, line


def test_the_relations_suite_says_what_the_person_means() -> None:
    """Every wording the suite draws parses to the intended relation (and region)."""
    from agent.suites import make_scenario
    from perception.referring import ReferringParser

    parser = ReferringParser()
    seen = set()
    for seed in range(60):
        scenario = make_scenario("relations", seed)
        intent, parsed = scenario.user.intent, parser.parse_instruction(scenario.instruction)
        assert (parsed.relation, parsed.region) == (intent.relation, intent.region), scenario.instruction
        assert (parsed.place2 is not None) == (intent.place2 is not None) and not parsed.unmatched
        seen.add(intent.relation)
    assert {"between", "region", "next_to", "left_of"} <= seen
