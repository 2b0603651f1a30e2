"""Runner pieces a user relies on: perception faults behave as the scenario says, pass/fail
follows ``expect``, the report summary counts unneeded and missed questions."""

from __future__ import annotations

import json
from pathlib import Path

from agent.report import EpisodeResult, build_report, error_result, format_table, load_report
from agent.runner import FaultyPerception, judge
from agent.scenario import Expect, Fault, ScenarioError
from agent.suites import make_scenario
from perception.types import SceneObservation

def _fake_perceive(seen: list[list[Fault]]):
    def perceive(obs: dict, faults: list[Fault]) -> SceneObservation:
        seen.append(list(faults))
        return SceneObservation(objects=[])

    return perceive


def test_first_look_suffers_every_fault_a_second_look_only_persistent_ones() -> None:
    fleeting = Fault.model_validate({"type": "misperceive_color", "object": "a", "as": "orange"})
    stuck = Fault(type="occlude", object="b", persist=True)
    seen: list[list[Fault]] = []
    perception = FaultyPerception(_fake_perceive(seen), [fleeting, stuck])
    perception({})
    perception({})
    assert seen == [[fleeting, stuck], [stuck]] and perception.looks == 2


def test_pass_needs_success_and_questions_as_expected() -> None:
    amb = make_scenario("ambiguous", 0)
    assert judge(amb, success=True, asked=1, moved=["o1"])
    assert not judge(amb, success=True, asked=0, moved=["o1"])  # should have asked
    assert not judge(amb, success=False, asked=1, moved=[])


def test_expected_failure_passes_only_if_the_table_was_left_alone() -> None:
    absent = make_scenario("infeasible", 0)
    assert judge(absent, success=False, asked=0, moved=[])
    assert not judge(absent, success=False, asked=0, moved=["o0"])


def test_summary_counts_unneeded_and_missed_questions(tmp_path: Path) -> None:
    rows = [
        EpisodeResult(name="asked-needlessly", passed=False, success=True, asked=1, expect=Expect(success=True, ask=False),
                      acted_on="a", acted_on_intended=True),
        EpisodeResult(name="never-asked", passed=False, success=False, asked=0, expect=Expect(success=True, ask=True),
                      acted_on="b", acted_on_intended=False, reperceptions=1),
        EpisodeResult(name="fine", passed=True, success=True, asked=2, expect=Expect(success=True, ask=True),
                      acted_on="a", acted_on_intended=True, reperceptions=1),
        error_result(ScenarioError("scenarios/bad.yaml", 2, "x", "user.intent.pick", "'z' is not an object in the scene")),
    ]
    report = build_report(rows)
    s = report.summary
    assert (s.episodes, s.passed, s.unneeded_asks, s.missed_asks, s.errors) == (4, 1, 1, 1, 1)
    assert s.success_rate == 0.5 and s.ask_rate == 0.5
    assert (s.asks, s.reperceptions) == (3, 2)
    assert s.acted_on_intended_rate == round(2 / 3, 4)  # the malformed row picked nothing: left out
    assert [(e.unneeded_ask, e.missed_ask) for e in report.episodes] == [(True, False), (False, True), (False, False), (False, False)]
    path = tmp_path / "out.json"
    report.write(path)
    data = json.loads(path.read_text())
    assert set(data) == {"episodes", "summary"}
    assert {"name", "passed", "success", "asked", "questions", "reperceptions", "steps", "duration_s", "error",
            "acted_on_intended", "unneeded_ask", "missed_ask"} <= set(data["episodes"][0])
    assert data["episodes"][0]["unneeded_ask"] is True and data["summary"]["asks"] == 3
    assert data["episodes"][3]["error"] == "scenarios/bad.yaml: scenario 2 'x': user.intent.pick: 'z' is not an object in the scene"
    assert load_report(path) == report
    table = format_table(report)
    assert "never-asked" in table and "passed 1/4" in table


def test_the_report_sets_the_robots_own_verdicts_against_the_simulators() -> None:
    """verdict_accuracy counts only episodes that ended with a verdict; the confusion counts add up."""
    from agent.report import EpisodeResult, summarize

    rows = [EpisodeResult(name=str(i), passed=s, success=s, verdict=v)
            for i, (v, s) in enumerate([(True, True), (True, True), (True, False), (False, False), (None, True)])]
    summary = summarize(rows)
    assert summary.verdicts.model_dump() == {"said_done_and_done": 2, "said_done_but_failed": 1,
                                             "said_failed_but_done": 0, "said_failed_and_failed": 1}
    assert summary.verdict_accuracy == 0.75
