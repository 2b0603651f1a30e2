"""A success count comes with its uncertainty, and two runs are compared episode by episode."""

from __future__ import annotations

import json

import pytest

from agent.commands.eval_stats import mcnemar_exact_p, paired_tasks, wilson_interval


def _episode(seed: int, task: str, success: bool) -> dict:
    return {"seed": seed, "task": task, "success": success}


def test_thirty_episodes_pin_a_rate_down_only_to_a_wide_interval():
    lo, hi = wilson_interval(25, 30)
    assert lo < 25 / 30 < hi
    assert (round(lo, 3), round(hi, 3)) == (0.664, 0.927)  # 25/30 is consistent with the 80 % bar
    assert wilson_interval(30, 30)[1] == pytest.approx(1.0) and wilson_interval(30, 30)[0] > 0.88
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_four_episodes_won_and_none_lost_is_not_yet_evidence():
    assert mcnemar_exact_p(0, 4) == pytest.approx(0.125)
    assert mcnemar_exact_p(5, 1) == pytest.approx(0.21875)
    assert mcnemar_exact_p(0, 10) < 0.01
    assert mcnemar_exact_p(0, 0) == 1.0


def test_runs_are_paired_by_seed_per_task():
    a = [_episode(1, "pick", True), _episode(3, "place_on", False), _episode(5, "place_on", True)]
    b = [_episode(5, "place_on", False), _episode(1, "pick", True), _episode(3, "place_on", True)]
    pick, on = paired_tasks(a, b)
    assert (pick.task, pick.wins_a, pick.wins_b, pick.only_a, pick.only_b) == ("pick", 1, 1, [], [])
    assert (on.task, on.episodes, on.only_a, on.only_b, on.p_value) == ("place_on", 2, [5], [3], 1.0)
    with pytest.raises(ValueError, match="different seeds"):
        paired_tasks(a, b[:2])


def test_the_comparison_script_prints_the_flips_and_rejects_a_file_that_is_not_a_report(tmp_path, capsys):
    from benchmarks.compare_evals import main

    a, b, bad = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "bad.json"
    a.write_text(json.dumps({"per_episode": [_episode(s, "place_on", s != 5) for s in (1, 3, 5, 7)]}))
    b.write_text(json.dumps({"per_episode": [_episode(s, "place_on", True) for s in (1, 3, 5, 7)]}))
    bad.write_text("{not json")
    assert main([str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "3/4" in out and "4/4" in out and "only B won seeds [5]" in out
    with pytest.raises(SystemExit, match="not a main.py eval report"):
        main([str(a), str(bad)])
