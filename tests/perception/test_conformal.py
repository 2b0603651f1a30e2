"""Conformal prediction sets: a threshold calibrated on one split keeps its promise on another."""

from __future__ import annotations

import numpy as np
import pytest

from perception.conformal import CalibrationExample, ConformalCalibration, calibrate, set_statistics
from perception.types import Candidate, GroundingResult


def _scenes(rng: np.random.Generator, n: int) -> list[CalibrationExample]:
    """Synthetic grounder output: clear scenes (one strong candidate) and look-alike scenes
    (2-3 near-equal candidates, the person means one of them)."""
    out = []
    for _ in range(n):
        if rng.uniform() < 0.6:
            scores = [float(rng.uniform(0.75, 0.99))] + list(rng.uniform(0.0, 0.1, size=int(rng.integers(0, 3))))
            truth = 0 if rng.uniform() < 0.97 else (1 if len(scores) > 1 else None)
        else:
            k = int(rng.integers(2, 4))
            raw = rng.dirichlet(np.full(k, 20.0)) * 0.95
            scores = list(raw)
            truth = int(rng.integers(k))
        out.append(CalibrationExample(scores=[float(s) for s in scores], true_index=truth))
    return out


def test_finite_sample_quantile():
    # n = 19, epsilon = 0.1 -> k = ceil(20 * 0.9) = 18: the 18th smallest nonconformity.
    scores = np.linspace(0.05, 0.95, 19)
    qhat = calibrate(scores, 0.1)
    assert qhat == pytest.approx(np.sort(1 - scores)[17])
    # Too few scenes for the promise: keep everything.
    assert calibrate([0.9, 0.8], 0.05) == 1.0


def test_threshold_from_calibration_split_covers_held_out_scenes():
    rng = np.random.default_rng(7)
    calibration, held_out = _scenes(rng, 500), _scenes(rng, 2000)
    for epsilon in (0.05, 0.1, 0.2):
        cal = ConformalCalibration.fit(calibration, epsilon)
        stats = cal.evaluate(held_out)
        assert stats.coverage >= 1 - epsilon - 0.02, (epsilon, stats)
    # A looser promise asks for help less often.
    strict = set_statistics(held_out, calibrate([e.score_of_true for e in calibration], 0.02), 0.02)
    loose = set_statistics(held_out, calibrate([e.score_of_true for e in calibration], 0.3), 0.3)
    assert loose.help_rate < strict.help_rate


def test_prediction_set_keeps_look_alikes_and_drops_clear_losers(tmp_path):
    cal = ConformalCalibration(epsilon=0.05, qhat=0.7, n_calibration=500)
    cands = [Candidate(pick=1, score=0.48), Candidate(pick=2, score=0.45), Candidate(pick=3, score=0.02)]
    assert [c.pick for c in cal.prediction_set(cands)] == [1, 2]
    # Round trip through the JSON stored beside the models.
    path = cal.save(tmp_path / "conformal.json")
    again = ConformalCalibration.load(path)
    assert again.threshold == pytest.approx(0.3)
    assert [c.pick for c in again.prediction_set(cands)] == [1, 2]
    grounded = GroundingResult(candidates=cands, prediction_set=cands[:1], confidence=0.03)
    assert [c.pick for c in again.apply(grounded).prediction_set] == [1, 2]


def test_missing_calibration_file_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="main.py calibrate"):
        ConformalCalibration.load(tmp_path / "none.json")


def test_three_look_alikes_at_the_cut_are_all_in_the_set():
    # Three identical cubes score ~1/3 each; a calibrated cut of 0.328 falls between them. The
    # set must keep all three (ask "left, middle or right?"), never act on one of them.
    calibration = ConformalCalibration(epsilon=0.05, qhat=1 - 0.328, n_calibration=500)
    grounded = GroundingResult(
        candidates=[Candidate(pick=i, score=s) for i, s in ((3, 0.3315), (2, 0.3278), (1, 0.3276))],
        prediction_set=[], confidence=0.0)
    assert [c.pick for c in calibration.apply(grounded).prediction_set] == [3, 2, 1]


def test_a_best_below_the_cut_leaves_the_set_empty():
    calibration = ConformalCalibration(epsilon=0.05, qhat=0.5, n_calibration=500)
    grounded = GroundingResult(candidates=[Candidate(pick=1, score=0.3), Candidate(pick=2, score=0.1)],
                               prediction_set=[], confidence=0.0)
    assert calibration.apply(grounded).prediction_set == []


def test_near_ties_that_clear_the_cut_together_are_all_kept():
    # Two look-alikes at 0.30 and 0.29 under a cut of 0.5: one of them is meant (0.59 together),
    # so both go in the set and the robot asks, rather than saying nothing fits.
    calibration = ConformalCalibration(epsilon=0.05, qhat=0.5, n_calibration=500)
    grounded = GroundingResult(candidates=[Candidate(pick=1, score=0.3), Candidate(pick=2, score=0.29)],
                               prediction_set=[], confidence=0.0)
    assert [c.pick for c in calibration.apply(grounded).prediction_set] == [1, 2]


def test_per_slot_sets_ask_which_bowl_when_only_the_bowl_is_open():
    # "put the red cube in the bowl" with three bowls: the pair scores split three ways, but the
    # cube's own (marginal) score is near 1 and each bowl's near 1/3.
    calibration = ConformalCalibration(epsilon=0.05, qhat=0.5, n_calibration=500,
                                       slot_qhat={"pick": 0.6, "place": 0.67})
    grounded = GroundingResult(
        candidates=[Candidate(pick=4, place=b, relation="in", score=0.31) for b in (1, 2, 3)]
        + [Candidate(pick=1, place=2, relation="in", score=0.01)],
        prediction_set=[], confidence=0.0)
    result = calibration.apply(grounded)
    assert result.slot_sets == {"pick": [4], "place": [1, 2, 3]}
    assert sorted(c.place for c in result.prediction_set) == [1, 2, 3]


def test_per_slot_sets_say_which_slot_nothing_fits():
    calibration = ConformalCalibration(epsilon=0.05, qhat=0.5, n_calibration=500,
                                       slot_qhat={"pick": 0.6, "place": 0.6})
    grounded = GroundingResult(
        candidates=[Candidate(pick=4, place=b, relation="in", score=s) for b, s in ((1, 0.3), (2, 0.1), (3, 0.1))],
        prediction_set=[], confidence=0.0)
    result = calibration.apply(grounded)
    assert result.slot_sets == {"pick": [4], "place": []} and result.prediction_set == []
