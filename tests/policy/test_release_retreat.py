"""After a put-down the open hand rises clear of the object, from proprio alone."""

from __future__ import annotations

import numpy as np
import pytest

from policy.inference.release_retreat import ReleaseRetreat


def proprio(z: float, opening: float, closed: bool) -> np.ndarray:
    """ee xyz, rpy, finger opening (0 shut .. 1 open), last gripper command (1 closed)."""
    return np.array([0.5, 0.0, z, 0.0, 0.0, 0.0, opening, float(closed)], dtype=np.float32)


def test_a_put_down_release_lifts_the_open_hand_to_the_retreat_height_then_hands_back() -> None:
    retreat = ReleaseRetreat(height_m=0.08, step_m=0.01)
    assert not retreat.update(proprio(0.15, 0.6, True), place_task=True)  # carrying
    assert not retreat.update(proprio(0.07, 0.6, True), place_task=True)  # lowered, still closed
    assert retreat.update(proprio(0.07, 1.0, False), place_task=True)  # opened: rise
    chunk = retreat.chunk(8, 7, proprio(0.07, 1.0, False))
    assert chunk.shape == (8, 7)
    assert np.allclose(chunk[:, 2], 0.01) and not chunk[:, [0, 1, 3, 4, 5, 6]].any()  # up only, hand open
    assert retreat.update(proprio(0.12, 1.0, False), place_task=True)  # half way: keep rising
    rest = retreat.chunk(8, 7, proprio(0.12, 1.0, False))
    assert np.isclose(rest[:, 2].sum(), 0.03) and rest[-1, 2] == 0.0  # stops at the goal, not past it
    assert not retreat.update(proprio(0.15, 1.0, False), place_task=True)  # there: the network again


def test_no_retreat_for_a_pick_an_empty_hand_or_a_hand_that_closes_again() -> None:
    pick = ReleaseRetreat(0.08)
    pick.update(proprio(0.1, 0.6, True), place_task=False)
    assert not pick.update(proprio(0.1, 1.0, False), place_task=False)
    empty = ReleaseRetreat(0.08)  # closed on nothing (fingers shut): nothing was put down
    empty.update(proprio(0.03, 0.02, True), place_task=True)
    assert not empty.update(proprio(0.03, 1.0, False), place_task=True)
    regrasp = ReleaseRetreat(0.08)
    regrasp.update(proprio(0.07, 0.6, True), place_task=True)
    assert regrasp.update(proprio(0.07, 1.0, False), place_task=True)
    assert not regrasp.update(proprio(0.08, 1.0, True), place_task=True)  # closed again: no longer rising
    with pytest.raises(ValueError):
        ReleaseRetreat(0.0)
