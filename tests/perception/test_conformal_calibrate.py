"""The calibrate command's data: rendered, perceived and grounded scenes with the true reading known."""

from __future__ import annotations

from agent.commands.calibrate import collect_examples, fit
from perception.conformal import ConformalCalibration

#: Seeds far from the calibration (100000+) and evaluation (200000+) ranges.
SEEDS = [900_001, 900_002, 900_003]


def test_grounded_scenes_know_their_true_interpretation():
    # One scene per suite: a unique object, look-alikes, a relation to another object.
    scenes = collect_examples(SEEDS, ["unambiguous", "ambiguous", "relations"])
    examples = [s.joint for s in scenes]
    assert len(examples) == 3
    assert all(e.true_index is not None for e in examples), examples
    clear, look_alikes, _ = examples
    # The named object is the grounder's clear favourite; look-alikes split the score.
    assert clear.score_of_true == max(clear.scores) and clear.score_of_true > 0.5
    assert look_alikes.score_of_true < 0.7 and len(look_alikes.scores) >= 2
    # Calibrated on such scenes, the set keeps every look-alike (so the robot asks).
    cal = ConformalCalibration.fit(examples, epsilon=0.3)
    indices = list(range(len(look_alikes.scores)))
    assert len(cal.prediction_set(indices, look_alikes.scores)) >= 2


def test_each_slot_is_calibrated_on_its_own_marginals():
    scenes = collect_examples(SEEDS, ["unambiguous", "ambiguous", "relations"])
    # A pick-only request has no place slot; the relation request has both.
    assert scenes[0].slots["place"] is None and scenes[2].slots["place"] is not None
    assert all(s.slots["pick"] is not None and s.slots["pick"].true_index is not None for s in scenes)
    cal = fit(scenes, epsilon=0.3)
    assert set(cal.slot_qhat) == {"pick", "place"}
