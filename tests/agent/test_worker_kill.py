"""30 episodes on 2 workers, one worker killed with SIGKILL: the report still has every episode,
the killed one with its error (issue 28)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_kill import bench_workers


@pytest.mark.slow
def test_a_killed_worker_costs_one_episode_and_the_report_accounts_for_all(tmp_path: Path) -> None:
    run = bench_workers(episodes=30, kill_after=4, folder=tmp_path)
    assert run.killed_pid and run.rows == 30
    assert len(run.errors) == 1 and "killed by signal SIGKILL" in run.errors[0]
