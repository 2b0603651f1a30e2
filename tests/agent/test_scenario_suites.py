"""Procedural suites: deterministic per seed, valid scenarios, expectations that fit the suite."""

from __future__ import annotations

import pytest

from agent.scenario import semantic_problems
from agent.suites import SUITES, make_scenario, parse_seeds
from sim.scene import COLORS


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_same_seed_same_scenario_other_seed_differs(suite: str) -> None:
    assert make_scenario(suite, 3) == make_scenario(suite, 3)
    assert len({make_scenario(suite, s).model_dump_json() for s in range(6)}) > 1


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_every_generated_scenario_passes_validation(suite: str) -> None:
    for seed in range(25):
        assert semantic_problems(make_scenario(suite, seed)) == []


def test_expectations_match_the_suite() -> None:
    for seed in range(10):
        amb = make_scenario("ambiguous", seed)
        meant = amb.scene.get(amb.user.intent.place or amb.user.intent.pick)  # place variant: two bowls
        assert sum((o.color, o.shape) == (meant.color, meant.shape) for o in amb.scene.objects) >= 2
        assert amb.expect.success and amb.expect.ask_range().min >= 1
        una = make_scenario("unambiguous", seed)
        assert una.expect.ask is False and una.expect.success
        inf = make_scenario("infeasible", seed)
        assert inf.user.intent.pick is None and not inf.expect.success
        words = set(inf.instruction.split())
        assert not words & {o.color for o in inf.scene.objects} and (words & set(COLORS) or "the" in words)
        rel = make_scenario("relations", seed)
        intent = rel.user.intent
        # A placement: relative to a reference (two for between) or into a part of the table.
        assert (intent.place is not None) != (intent.relation == "region")
        assert (intent.place2 is not None) == (intent.relation == "between")
        cor = make_scenario("correction", seed)
        assert any("other" in i.say for i in cor.user.interjections)


def test_seed_ranges_and_lists() -> None:
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("1,3,5") == [1, 3, 5]
    assert parse_seeds("0-1,7") == [0, 1, 7]
    with pytest.raises(ValueError):
        parse_seeds("5-1")


def test_unknown_suite_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="ambiguous"):
        make_scenario("nope", 0)
