"""Checkpoint folders: a round trip gives the same policy; any broken part fails clearly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from policy.model.checkpoint import load_checkpoint, save_checkpoint
from policy.model.normalize import CheckpointError, NormStats
from policy.model.tokenizer import build_word_tokenizer

from tests.policy.conftest import fake_obs


def _actions(policy):
    from policy.inference.runtime import VLARuntime

    return VLARuntime(policy).predict_chunk(fake_obs(), "put the red cube in the green bowl").actions


def test_round_trip_gives_the_same_actions_and_stats(policy, tmp_path):
    save_checkpoint(tmp_path, policy.model, policy.tokenizer, policy.stats)
    loaded = load_checkpoint(tmp_path)
    assert loaded.stats == policy.stats
    np.testing.assert_allclose(_actions(loaded), _actions(policy), atol=1e-5)


def test_missing_stats_fail_with_a_clear_message(policy, tmp_path):
    save_checkpoint(tmp_path, policy.model, policy.tokenizer, policy.stats)
    (tmp_path / "stats.json").unlink()
    with pytest.raises(CheckpointError, match="normalisation statistics"):
        load_checkpoint(tmp_path)


def test_stats_of_the_wrong_width_are_refused(policy, tmp_path):
    save_checkpoint(tmp_path, policy.model, policy.tokenizer, policy.stats)
    wrong = NormStats.fit(np.zeros((4, 6)), np.zeros((4, 8)))
    wrong.save(tmp_path)
    with pytest.raises(CheckpointError, match="action dim 6"):
        load_checkpoint(tmp_path)


def test_corrupt_weights_are_reported(policy, tmp_path):
    save_checkpoint(tmp_path, policy.model, policy.tokenizer, policy.stats)
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(tmp_path)


def test_another_tokenizer_is_refused(policy, tmp_path):
    save_checkpoint(tmp_path, policy.model, policy.tokenizer, policy.stats)
    build_word_tokenizer(["an entirely different vocabulary"]).save_pretrained(str(tmp_path))
    with pytest.raises(CheckpointError, match="tokenizer"):
        load_checkpoint(tmp_path)


def test_missing_config_says_it_is_not_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="not a policy checkpoint"):
        load_checkpoint(tmp_path)


def test_config_of_another_geometry_does_not_load_the_weights(policy, tmp_path):
    save_checkpoint(tmp_path, policy.model, policy.tokenizer, policy.stats)
    payload = json.loads((tmp_path / "config.json").read_text())
    payload["policy"]["text_intermediate"] = 96
    (tmp_path / "config.json").write_text(json.dumps(payload))
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path)
