"""A worker killed mid-episode costs only that episode (issue 28: runs with workers under kills)."""

from __future__ import annotations

import os
import signal

from agent.worker_pool import run_in_workers


def square_or_die(item: int, doomed: int, index: int) -> int:
    if item == doomed:
        os.kill(os.getpid(), signal.SIGKILL)
    return item * item


def test_every_item_is_accounted_for_when_a_worker_is_killed() -> None:
    done: dict[int, int] = {}
    lost: dict[int, str] = {}
    items = list(range(12))
    run_in_workers(square_or_die, items, (5,), 2, done.__setitem__, lost.__setitem__)
    assert set(done) | set(lost) == set(items) and not set(done) & set(lost)
    assert list(lost) == [5] and "killed by signal SIGKILL" in lost[5]
    assert all(done[i] == i * i for i in done)
