"""The geometry head's hand-to-object offsets, through the camera calibration stored with the demos."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from policy.model.checkpoint import CheckpointError, LoadedPolicy, load_checkpoint, save_checkpoint
from policy.model.cot_format import format_reasoning, parse_reasoning
from policy.training.dataset import DemoDataset, load_demo_camera, load_demos, write_demo_camera
from policy.model.geometry import BOX_DIM, OFFSET_DIM, OFFSET_SCALE, reasoning_geometry
from policy.training.head_refit import HeadRefitSettings, run_head_refit
from policy.model.modeling import build_model
from policy.inference.runtime import RuntimeSettings, VLARuntime
from sim.pybullet_camera import CameraConfig, camera_model
from tests.policy.conftest import fake_obs, sample_reasoning
from tests.policy.test_data_and_training import write_demos
from tests.policy.test_geometry_head import _chunk

PROMPT = "put the red cube in the green bowl"


@pytest.fixture(scope="module")
def calibration():
    return camera_model(CameraConfig())


@pytest.fixture()
def offset_policy(policy, calibration) -> LoadedPolicy:
    torch.manual_seed(2)
    config = policy.config.replace(head_geometry=True, geometry_camera=calibration)
    return LoadedPolicy(model=build_model(config).eval(), tokenizer=policy.tokenizer, stats=policy.stats, config=config)


def test_a_box_around_a_tabletop_point_lifts_back_onto_that_point(calibration):
    cam = camera_model(CameraConfig())
    for point in ([0.45, -0.10, calibration.plane_z], [0.30, 0.20, calibration.plane_z]):
        u, v = cam.project(np.array([point]))[0] / (cam.width, cam.height)
        lifted = calibration.lift(np.array([u - 0.03, v - 0.02, u + 0.03, v + 0.02]))[0]
        np.testing.assert_allclose(lifted, point, atol=1e-6)


def test_offsets_say_how_far_the_hand_is_from_each_object(calibration):
    r = sample_reasoning()
    state = np.array([0.4, 0.0, 0.2, 0, 0, 0, 1, 0], dtype=np.float32)
    here = reasoning_geometry(r, state, calibration)
    assert here.shape == (BOX_DIM + OFFSET_DIM,)
    moved = state.copy()
    moved[0] += 0.1  # the hand 10 cm further along x: both objects 10 cm nearer in -x
    there = reasoning_geometry(r, moved, calibration)
    np.testing.assert_allclose(there[BOX_DIM:] - here[BOX_DIM:], [-0.1 / OFFSET_SCALE, 0, 0] * 2, atol=1e-5)
    no_place = reasoning_geometry(r.model_copy(update={"place": None}), state, calibration)
    assert no_place[BOX_DIM + 3:].tolist() == [0.0] * 3
    with pytest.raises(ValueError, match="proprio state"):
        reasoning_geometry(r, None, calibration)


def test_an_offset_checkpoint_round_trips_and_reuse_matches_fresh_reasoning(offset_policy, tmp_path):
    save_checkpoint(tmp_path, offset_policy.model, offset_policy.tokenizer, offset_policy.stats)
    loaded = load_checkpoint(tmp_path)
    assert loaded.config.geometry_camera == offset_policy.config.geometry_camera
    rt = VLARuntime(loaded, RuntimeSettings(replan_every=10, replan_on_gripper_change=False))
    obs = fake_obs(seed=3)
    fresh, reused = rt.predict_chunk(obs, PROMPT), rt.predict_chunk(obs, PROMPT)
    assert not reused.reasoned
    np.testing.assert_allclose(reused.actions, fresh.actions, atol=1e-4)


def test_the_hand_position_moves_the_actions_through_the_offsets(offset_policy):
    r, camera = sample_reasoning(), offset_policy.config.geometry_camera
    state = np.asarray(fake_obs()["state"])
    moved = state + np.array([0.05, 0, 0, 0, 0, 0, 0, 0], dtype=np.float32)
    # The same network input; only the geometry's hand position differs.
    here = _chunk(offset_policy, r, torch.from_numpy(reasoning_geometry(r, state, camera))[None])
    there = _chunk(offset_policy, r, torch.from_numpy(reasoning_geometry(r, moved, camera))[None])
    assert not torch.allclose(here, there)


def test_a_checkpoint_with_a_garbled_camera_is_refused_by_name(offset_policy, tmp_path):
    save_checkpoint(tmp_path, offset_policy.model, offset_policy.tokenizer, offset_policy.stats)
    cfg_path = tmp_path / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["policy"]["geometry_camera"]["base_from_camera"] = [[1, 0], [0, 1]]
    cfg_path.write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="base_from_camera"):
        load_checkpoint(tmp_path)


def test_demo_folders_keep_one_camera_and_training_asks_for_it(calibration, tmp_path):
    write_demos(tmp_path / "old", episodes=1, steps=2)
    with pytest.raises(FileNotFoundError, match="main.py collect --out"):
        load_demo_camera(tmp_path / "old")
    write_demo_camera(tmp_path / "old", calibration)
    write_demo_camera(tmp_path / "old", calibration)  # the same camera again is fine
    assert load_demo_camera(tmp_path / "old") == calibration
    other = camera_model(CameraConfig(eye=(1.2, 0.1, 0.7)))
    with pytest.raises(ValueError, match="another camera"):
        write_demo_camera(tmp_path / "old", other)
    write_demo_camera(tmp_path / "new", other)
    with pytest.raises(ValueError, match="different cameras"):
        load_demo_camera(f"{tmp_path / 'old'},{tmp_path / 'new'}")


def test_head_refit_with_offsets_reads_the_camera_and_keeps_the_backbone(policy, calibration, tmp_path):
    write_demos(tmp_path / "demos", episodes=3, steps=6)
    write_demo_camera(tmp_path / "demos", calibration)
    save_checkpoint(tmp_path / "base", policy.model, policy.tokenizer, policy.stats)
    settings = HeadRefitSettings(rows_per_phase=50, steps=20, batch_size=8, camera=load_demo_camera(tmp_path / "demos"))
    run_head_refit(str(tmp_path / "base"), str(tmp_path / "demos"), str(tmp_path / "out"), settings, motion_eval_rows=4)
    new = load_checkpoint(tmp_path / "out")
    assert new.config.head_geometry and new.config.geometry_camera == calibration
    assert new.model.action_head.geometry_in[0].in_features == BOX_DIM + OFFSET_DIM
    base_sd, new_sd = policy.model.state_dict(), new.model.state_dict()
    assert all(torch.equal(v, new_sd[k]) for k, v in base_sd.items() if not k.startswith("action_head."))


def test_stale_rows_from_the_start_feed_the_box_where_the_object_stood_when_named(policy, calibration, tmp_path):
    """A steered run keeps the TARGET box of the moment the object was named while it is carried;
    ``stale_from_start`` trains the head on exactly that geometry."""
    write_demos(tmp_path, episodes=1, steps=6)
    table = load_demos(tmp_path)
    r = sample_reasoning()
    table.reasoning[:] = [format_reasoning(r.model_copy(update={"target": r.target.model_copy(
        update={"box": (0.1 + 0.05 * i, 0.2, 0.3 + 0.05 * i, 0.4)})})) for i in range(len(table))]
    config = policy.config.replace(head_geometry=True, geometry_camera=calibration)
    from_start = DemoDataset(table, policy.tokenizer, config, policy.stats, stale_prob=1.0, stale_from_start=1.0)
    recent = DemoDataset(table, policy.tokenizer, config, policy.stats, stale_prob=1.0, max_lag=1)
    assert from_start[5]["geometry"][:4].tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4], abs=2e-3)
    assert recent[5]["geometry"][:4].tolist() == pytest.approx([0.3, 0.2, 0.5, 0.4], abs=2e-3)
    # The hand offsets use the row's own state, whatever reasoning was fed.
    state = table.state[5]
    expected = reasoning_geometry(parse_reasoning(table.reasoning[0]), state, calibration)
    np.testing.assert_allclose(from_start[5]["geometry"].numpy(), expected, atol=1e-6)


def test_collect_records_the_camera_beside_the_demos(calibration, tmp_path):
    import argparse

    from agent.commands import collect

    parser = argparse.ArgumentParser()
    collect.add_arguments(parser)
    args = parser.parse_args(["--episodes", "1", "--first-steps", "1", "--out", str(tmp_path)])
    assert collect.run(args) == 0
    assert load_demo_camera(tmp_path) == calibration
    assert len(load_demos(tmp_path)) == 1
