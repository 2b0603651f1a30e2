"""The open-loop motion check tells a hovering carry from one that follows the expert."""

from __future__ import annotations

import numpy as np

from policy.training.dataset import load_demos
from policy.training.motion_eval import displacement_agreement, motion_agreement
from tests.policy.test_data_and_training import write_demos


def test_a_hovering_chunk_scores_zero_sideways_and_the_experts_own_chunk_scores_one():
    expert = np.zeros((2, 8, 7))
    expert[:, :, 0] = 0.02  # carry forward 16 cm over the chunk
    expert[:, :, 2] = 0.001
    hover = np.zeros_like(expert)
    hover[:, :, 2] = 0.001  # rises a little, goes nowhere
    cos, ratio = displacement_agreement(expert, expert)
    assert np.allclose(cos, 1.0) and np.allclose(ratio, 1.0)
    cos, ratio = displacement_agreement(hover, expert)
    assert np.allclose(ratio, 0.0) and (cos < 0.1).all()


def test_motion_agreement_reports_each_moving_phase_of_held_out_rows(policy, tmp_path):
    write_demos(tmp_path, episodes=1, steps=6)
    table = load_demos(tmp_path)
    table.actions[:, :, 0] = 0.02  # every chunk moves forward, sideways enough to score the ratio
    table.reasoning[:] = ["MOVE: carry , forward , gripper close"] * 3 + ["MOVE: close , hold , gripper close"] * 3
    record = motion_agreement(policy, table, rows_per_phase=8)
    assert set(record) == {"eval_move_cos_carry", "eval_move_ratio_carry"}
    assert -1.0 <= record["eval_move_cos_carry"] <= 1.0 and record["eval_move_ratio_carry"] >= 0.0
    assert motion_agreement(policy, table, rows_per_phase=0) == {}


def test_motion_agreement_leaves_the_model_in_the_mode_it_found(policy, tmp_path):
    write_demos(tmp_path, episodes=1, steps=4)
    table = load_demos(tmp_path)
    table.reasoning[:] = ["MOVE: approach , forward , gripper open"] * 4
    policy.model.train()
    motion_agreement(policy, table, rows_per_phase=2)
    assert policy.model.training
