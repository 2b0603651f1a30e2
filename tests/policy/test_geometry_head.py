"""The action head that reads the reasoning's TARGET/PLACE boxes as numbers (policy/model/geometry.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from policy.model.checkpoint import LoadedPolicy, load_checkpoint, save_checkpoint
from policy.model.cot_format import format_prompt, format_reasoning
from policy.model.pixels import image_to_tensor
from policy.model.geometry import BOX_DIM, reasoning_geometry
from policy.training.head_refit import HeadRefitSettings, run_head_refit
from policy.model.modeling import build_model
from policy.inference.runtime import RuntimeSettings, VLARuntime
from policy.model.tokenizer import encode_example
from tests.policy.conftest import BOX_A, BOX_B, fake_obs, sample_reasoning
from tests.policy.test_data_and_training import write_demos

PROMPT = "put the red cube in the green bowl"


@pytest.fixture()
def geometry_policy(policy) -> LoadedPolicy:
    torch.manual_seed(1)
    config = policy.config.replace(head_geometry=True)
    return LoadedPolicy(model=build_model(config).eval(), tokenizer=policy.tokenizer, stats=policy.stats, config=config)


def test_geometry_lays_out_the_target_and_place_boxes_with_presence_flags():
    r = sample_reasoning()
    np.testing.assert_allclose(reasoning_geometry(r), [*BOX_A, 1.0, *BOX_B, 1.0])
    alone = reasoning_geometry(r.model_copy(update={"place": None}))
    assert alone.shape == (BOX_DIM,) and alone[5:].tolist() == [0.0] * 5


def _chunk(policy: LoadedPolicy, reasoning, geometry):
    cfg = policy.config
    enc = encode_example(policy.tokenizer, cfg.num_image_tokens, format_prompt(PROMPT), format_reasoning(reasoning),
                         state_token=cfg.state_token)
    ids = torch.tensor([enc.input_ids + [cfg.pad_token_id] * cfg.chunk_size])
    types = torch.tensor([enc.token_type_ids + [1] * cfg.chunk_size])
    action_mask = torch.zeros_like(ids, dtype=torch.bool)
    action_mask[0, -cfg.chunk_size:] = True
    obs = fake_obs()
    pixels = image_to_tensor(obs["rgb"], cfg.image_size)[None]
    state = torch.from_numpy(policy.stats.normalize_state(obs["state"]))[None]
    with torch.no_grad():
        return policy.model(ids, types, pixels, state, action_mask=action_mask, geometry=geometry).actions


def test_moving_the_place_box_moves_the_actions_and_a_missing_geometry_is_refused(geometry_policy):
    r = sample_reasoning()
    moved = r.model_copy(update={"place": r.place.model_copy(update={"box": (0.8, 0.1, 0.95, 0.2)})})
    here = _chunk(geometry_policy, r, torch.from_numpy(reasoning_geometry(r))[None])
    there = _chunk(geometry_policy, moved, torch.from_numpy(reasoning_geometry(moved))[None])
    assert not torch.allclose(here, there)
    with pytest.raises(ValueError, match="geometry vector"):
        _chunk(geometry_policy, r, None)


def test_reused_reasoning_gives_the_same_chunk_with_a_geometry_head(geometry_policy):
    rt = VLARuntime(geometry_policy, RuntimeSettings(replan_every=10, replan_on_gripper_change=False))
    obs = fake_obs(seed=3)
    fresh, reused = rt.predict_chunk(obs, PROMPT), rt.predict_chunk(obs, PROMPT)
    assert fresh.reasoned and not reused.reasoned
    np.testing.assert_allclose(reused.actions, fresh.actions, atol=1e-4)


def test_a_geometry_checkpoint_round_trips(geometry_policy, tmp_path):
    save_checkpoint(tmp_path, geometry_policy.model, geometry_policy.tokenizer, geometry_policy.stats)
    loaded = load_checkpoint(tmp_path)
    assert loaded.config.head_geometry
    a = VLARuntime(loaded).predict_chunk(fake_obs(), PROMPT).actions
    b = VLARuntime(geometry_policy).predict_chunk(fake_obs(), PROMPT).actions
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_head_refit_with_geometry_saves_a_geometry_checkpoint_that_keeps_the_backbone(policy, tmp_path):
    write_demos(tmp_path / "demos", episodes=3, steps=6)
    save_checkpoint(tmp_path / "base", policy.model, policy.tokenizer, policy.stats)
    settings = HeadRefitSettings(rows_per_phase=50, steps=20, batch_size=8, geometry=True)
    run_head_refit(str(tmp_path / "base"), str(tmp_path / "demos"), str(tmp_path / "out"), settings, motion_eval_rows=4)
    base, new = load_checkpoint(tmp_path / "base"), load_checkpoint(tmp_path / "out")
    assert new.config.head_geometry and not base.config.head_geometry
    base_sd, new_sd = base.model.state_dict(), new.model.state_dict()
    assert all(torch.equal(v, new_sd[k]) for k, v in base_sd.items() if not k.startswith("action_head."))
    assert any(k.startswith("action_head.geometry_in.") for k in new_sd)
