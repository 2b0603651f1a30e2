"""Rate checks of the committed checkpoint on small blocks of development seeds (slow).

They replace single-seed pins as a guard against a checkpoint or runtime change that loses
episodes wholesale: a block of six episodes (the three task kinds twice, `main.py eval`'s seeds
1-11, on which the runtime's rules were chosen) must keep most of its successes. They are no
measure of the policy: the figures are on the test blocks of docs/RESULTS.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from main import main

CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "vla"


@pytest.mark.slow
def test_the_policy_alone_keeps_most_of_a_development_block(tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    assert main(["eval", "--checkpoint", str(CHECKPOINT), "--episodes", "6", "--report", str(out)]) == 0
    report = json.loads(out.read_text())
    wins = sum(e["success"] for e in report["per_episode"])
    assert wins >= 4, [(e["seed"], e["task"], e["end_reason"]) for e in report["per_episode"]]


@pytest.mark.slow
def test_the_agents_loop_keeps_most_of_a_development_block_and_judges_it_right(tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    assert main(["eval", "--checkpoint", str(CHECKPOINT), "--loop", "agent", "--episodes", "6", "--workers", "2",
                 "--run-dir", str(tmp_path / "run"), "--report", str(out)]) == 0
    report = json.loads(out.read_text())
    rows = report["per_episode"]
    # Picks and puts into a bowl hold; the stacks of this block fail with this checkpoint (its
    # known weak task, docs/RESULTS.md), so four of six is the floor a regression would break.
    assert sum(e["success"] for e in rows) >= 4, [(e["seed"], e["family"], e["message"]) for e in rows]
    assert sum(e["verdict"] == e["success"] for e in rows) >= 5
