"""Fuzzed scenario files, utterances and answers never crash a reader, and every rejection is a
clear one-line message (issue 28). ``benchmarks/bench_fuzz.py`` runs the same targets at 10,000
cases each; here a few hundred (the 10,000-case run is marked slow)."""

from __future__ import annotations

import pytest

from benchmarks.bench_fuzz import fuzz
from benchmarks.fuzz_targets import TARGETS


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzzed_input_never_crashes_the_reader(name: str) -> None:
    stats = fuzz(TARGETS[name], 300)
    assert stats.cases == 300 and stats.crashes == 0, stats.crash_examples


def test_fuzzed_scenario_files_are_rejected_with_messages_that_name_a_field_or_the_file() -> None:
    stats = fuzz(TARGETS["scenario_file"], 300)
    assert stats.rejected > 100 and len(stats.messages) > 10
    assert all(m and "Traceback" not in m for m in stats.messages)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_ten_thousand_fuzzed_inputs_never_crash_the_reader(name: str) -> None:
    stats = fuzz(TARGETS[name], 10_000)
    assert stats.cases == 10_000 and stats.crashes == 0, stats.crash_examples
