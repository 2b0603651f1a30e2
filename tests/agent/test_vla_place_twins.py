"""Two bowls of one colour, the person says which: the learned policy puts the object in that one.

The policy's demonstrations never name a bowl's side in the sentence (only in a clarifying
exchange), so the VLA executor tells it "put the pink cylinder in the blue bowl" and steers its
PLACE box to the bowl the person chose. Told "... in the blue bowl on the left" it read the
sentence as a pick and held the cylinder up until the motion ended."""

from __future__ import annotations

from pathlib import Path

from agent.runner import RunConfig, run_scenario
from agent.suites import make_suite


def test_the_learned_policy_puts_it_in_the_bowl_the_person_chose(tmp_path: Path) -> None:
    scenario = make_suite("ambiguous", [14])[0]  # a pink cylinder, two blue bowls
    assert scenario.user.intent.place is not None
    result = run_scenario(scenario, RunConfig(consistency="off", policy="vla"), tmp_path, seed=0)

    assert result.error is None and result.passed and result.success, result.message
    assert result.asked == 1 and "left" in result.questions[0] and "right" in result.questions[0]
    assert result.retries == 0
