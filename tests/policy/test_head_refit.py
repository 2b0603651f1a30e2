"""`train --head-only`: a trained checkpoint gets a new action head; nothing else changes."""

from __future__ import annotations

import json

import pytest
import torch

from policy.model.checkpoint import load_checkpoint, save_checkpoint
from policy.training.head_refit import HeadRefitSettings, run_head_refit
from policy.training.training import action_loss
from tests.policy.test_data_and_training import write_demos


def test_head_refit_changes_only_the_head_and_saves_a_loadable_checkpoint(policy, tmp_path):
    write_demos(tmp_path / "demos", episodes=3, steps=6)
    save_checkpoint(tmp_path / "base", policy.model, policy.tokenizer, policy.stats)
    settings = HeadRefitSettings(rows_per_phase=50, steps=40, batch_size=8)
    record = run_head_refit(str(tmp_path / "base"), str(tmp_path / "demos"), str(tmp_path / "out"), settings,
                            motion_eval_rows=4)
    base, new = load_checkpoint(tmp_path / "base"), load_checkpoint(tmp_path / "out")
    base_sd, new_sd = base.model.state_dict(), new.model.state_dict()
    changed = {k for k in base_sd if not torch.equal(base_sd[k], new_sd[k])}
    assert changed and all(k.startswith("action_head.") for k in changed)
    assert record["head_refit_rows"] == 12  # the two training episodes; the third is held out
    assert new.meta["head_refit"]["init_from"] == str(tmp_path / "base")
    logged = json.loads((tmp_path / "out" / "train_log.jsonl").read_text().splitlines()[-1])
    assert logged["l1_after"] == pytest.approx(record["l1_after"])


def test_an_unknown_action_loss_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="l1, mse, l1\\+mse, l1\\+mse-xy"):
        action_loss(torch.zeros(1, 1, 7), torch.zeros(1, 1, 7), "huber")


def test_the_squared_term_of_l1_mse_xy_weighs_only_sideways_errors():
    target = torch.zeros(1, 1, 7)
    off_sideways, off_gripper = target.clone(), target.clone()
    off_sideways[..., 0] = 2.0
    off_gripper[..., 6] = 2.0
    assert float(action_loss(off_gripper, target, "l1+mse-xy")) == pytest.approx(float(action_loss(off_gripper, target, "l1")))
    assert float(action_loss(off_sideways, target, "l1+mse-xy")) > float(action_loss(off_sideways, target, "l1"))
