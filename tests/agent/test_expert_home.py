"""The scripted expert's placement ends like the learned policy's step back: the hand rises and
goes home before the agent looks, so the look sees the table without the arm over it."""

from __future__ import annotations

import json
from pathlib import Path

from agent.runner import RunConfig, run_scenario
from agent.scenario import load_scenarios

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_a_placement_ends_at_home_before_the_look(tmp_path: Path) -> None:
    scenario = next(s for s in load_scenarios([SCENARIOS], recursive=False).scenarios if s.name == "relation-left-of")
    result = run_scenario(scenario, RunConfig(consistency="off", policy="expert"), tmp_path, seed=0)
    assert result.success and result.verdict, result.message

    events = [json.loads(line) for line in Path(result.transcript).read_text().splitlines()]
    phases = [e["text"] for e in events if e["kind"] == "reasoning"]
    assert phases[-1] == "[expert] home" and any(p.endswith(": retreat") for p in phases)
    sent = [e["data"]["sent"] for e in events if e["kind"] == "action" and "sent" in e.get("data", {})]
    assert sent[-1][6] < 0.5  # the hand stays open on the way home
    look = next(i for i, e in enumerate(events) if e["kind"] == "own_check")
    assert look > max(i for i, e in enumerate(events) if e["kind"] == "reasoning")
