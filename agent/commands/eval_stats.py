"""How much a closed-loop success count can be trusted, and whether two runs really differ.

A run of ``main.py eval`` is 30 episodes a task. Moving the aim by a few millimetres flips 3-4 of
90 episodes either way (docs/RESULTS.md, "Pick and place"), so a count comes with its Wilson 95 %
interval, and two runs on the same seeds are compared episode by episode: only the episodes one
won and the other lost carry information, and McNemar's exact test says how likely a split that
lopsided is when neither variant is better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

#: Two-sided 95 % normal quantile.
Z95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a success rate (95 % by default); (0, 1) without trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def mcnemar_exact_p(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value: the chance of a split at least this lopsided between the
    episodes only A won (``only_a``) and those only B won, if each is equally likely to go
    either way. 1.0 when no episode differs."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(only_a, only_b) + 1)) / 2.0 ** n
    return min(1.0, 2.0 * tail)


@dataclass(frozen=True)
class PairedTask:
    """One task of two runs on the same seeds."""

    task: str
    episodes: int
    wins_a: int
    wins_b: int
    only_a: list[int]  # seeds A won and B lost
    only_b: list[int]

    @property
    def p_value(self) -> float:
        return mcnemar_exact_p(len(self.only_a), len(self.only_b))


def paired_tasks(a: Iterable[dict[str, Any]], b: Iterable[dict[str, Any]]) -> list[PairedTask]:
    """Per task, the episodes of two eval reports' ``per_episode`` lists matched by seed. Raises
    ValueError when the runs do not hold the same seeds (they would not be a pair)."""
    by_seed_a = {int(r["seed"]): r for r in a}
    by_seed_b = {int(r["seed"]): r for r in b}
    if set(by_seed_a) != set(by_seed_b):
        missing = sorted(set(by_seed_a) ^ set(by_seed_b))[:5]
        raise ValueError(f"the two runs hold different seeds (e.g. {missing}): compare runs of the same --start/--episodes")
    out = []
    for task in sorted({r["task"] for r in by_seed_a.values()}):
        seeds = sorted(s for s, r in by_seed_a.items() if r["task"] == task)
        won_a = {s for s in seeds if by_seed_a[s]["success"]}
        won_b = {s for s in seeds if by_seed_b[s]["success"]}
        out.append(PairedTask(task, len(seeds), len(won_a), len(won_b), sorted(won_a - won_b), sorted(won_b - won_a)))
    return out
