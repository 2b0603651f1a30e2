"""Demo schema -> batches -> a few training steps that learn, save a checkpoint and resume."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch

from policy.model.checkpoint import load_checkpoint
from policy.model.cot_format import format_prompt, format_reasoning
from policy.training.dataset import DemoDataset, collate, episode_path, load_demos
from policy.model.normalize import NormStats
from policy.training.training import STATE_FILE, TrainSettings, compute_loss, train

from tests.policy.conftest import sample_reasoning, tiny_config

SMALL = {"image_size": 32, "vision_hidden": 32, "vision_intermediate": 64, "text_hidden": 32,
         "text_intermediate": 64, "text_heads": 2, "head_dim": 16, "action_head_hidden": 32, "chunk_size": 4}


def write_demos(folder, episodes: int = 2, steps: int = 6, chunk: int = 4) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from PIL import Image

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for e in range(episodes):
        images = []
        for _ in range(steps):
            buf = io.BytesIO()
            Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(buf, format="PNG")
            images.append(buf.getvalue())
        cols = {
            "episode": [e] * steps,
            "step": list(range(steps)),
            "image": images,
            "state": rng.normal(size=(steps, 8)).astype(np.float32).tolist(),
            "prompts": [[format_prompt("put the red cube in the green bowl"), "drop the red block in the green bowl"]] * steps,
            "reasoning": [format_reasoning(sample_reasoning())] * steps,
            "actions": (rng.normal(size=(steps, chunk * 7)) * 0.01).astype(np.float32).tolist(),
            "task": ["place_in"] * steps,
        }
        pq.write_table(pa.table(cols), episode_path(folder, e))


def test_batch_puts_action_queries_right_after_each_rows_eos(policy, tmp_path):
    write_demos(tmp_path)
    table = load_demos(tmp_path)
    assert table.actions.shape == (12, 4, 7)
    ds = DemoDataset(table, policy.tokenizer, policy.config, policy.stats)
    batch = collate([ds[0], ds[1]], policy.config)
    eos = policy.config.eos_token_id
    for r in range(2):
        first_query = int(batch.action_mask[r].nonzero()[0])
        assert int(batch.input_ids[r, first_query - 1]) == eos
        assert int(batch.action_mask[r].sum()) == policy.config.chunk_size
        assert not batch.loss_mask[r, first_query:].any()  # no LM loss on queries or padding
    assert (batch.token_type_ids[batch.loss_mask] == 1).all()


def test_training_lowers_the_loss_saves_and_resumes(tmp_path):
    data, out = tmp_path / "demos", tmp_path / "ckpt"
    write_demos(data)
    settings = TrainSettings(data=str(data), out=str(out), steps=4, batch_size=4, lr=3e-3, warmup=1,
                             eval_every=2, save_every=2, threads=1, overrides=SMALL)
    records = []
    train(settings, records.append)
    assert (out / STATE_FILE).exists()
    loaded = load_checkpoint(out)
    assert loaded.meta["step"] == 4
    assert loaded.stats.num_samples > 0
    # Resume to a larger total: continues from step 4, not from scratch.
    more = []
    train(TrainSettings(**{**settings.__dict__, "steps": 12}), more.append)
    assert more[0]["step"] == 5 and load_checkpoint(out).meta["step"] == 12
    assert more[-1]["text_loss"] < records[0]["text_loss"]
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert any("eval_text_loss" in r for r in log)


def test_lora_training_writes_an_adapter_and_a_merged_checkpoint(tmp_path):
    data, out = tmp_path / "demos", tmp_path / "ckpt"
    write_demos(data, episodes=2, steps=3)
    train(TrainSettings(data=str(data), out=str(out), steps=2, batch_size=2, eval_every=2, save_every=2,
                        threads=1, lora=True, lora_rank=2, overrides=SMALL))
    assert (out / "adapter" / "adapter_config.json").exists()
    assert not any("lora" in k for k in load_checkpoint(out).model.state_dict())


def test_stale_reasoning_rows_condition_actions_but_are_not_text_targets(policy, tmp_path):
    write_demos(tmp_path, episodes=1, steps=6)
    table = load_demos(tmp_path)
    table.reasoning[:] = [f"MOVE: step {i}" for i in range(len(table))]
    ds = DemoDataset(table, policy.tokenizer, policy.config, policy.stats, stale_prob=1.0, max_lag=2)
    item = ds[4]
    assert sum(item["enc"].loss_mask) == 0
    assert sum(ds[0]["enc"].loss_mask) > 0  # the first step has nothing older to reuse


def test_scene_balance_gives_short_episodes_their_share(policy, tmp_path):
    write_demos(tmp_path / "long", episodes=1, steps=6)
    write_demos(tmp_path / "short", episodes=1, steps=2)
    (tmp_path / "short" / "episode_000000.parquet").rename(tmp_path / "short" / "episode_000007.parquet")
    import pyarrow.parquet as pq, pyarrow as pa

    short = pq.read_table(tmp_path / "short" / "episode_000007.parquet").to_pydict()
    short["episode"] = [7, 7]
    pq.write_table(pa.table(short), tmp_path / "short" / "episode_000007.parquet")
    table = load_demos(f"{tmp_path / 'long'},{tmp_path / 'short'}")
    ds = DemoDataset(table, policy.tokenizer, policy.config, policy.stats)
    w = ds.sampling_weights(1.0)
    assert w[table.episode == 0].sum() == pytest.approx(w[table.episode == 7].sum())
    assert np.allclose(ds.sampling_weights(0.0), 1.0)


def test_phase_balance_samples_the_few_carry_rows_as_often_as_the_many_approach_rows(policy, tmp_path):
    write_demos(tmp_path, episodes=1, steps=6)
    table = load_demos(tmp_path)
    base = format_reasoning(sample_reasoning()).rpartition("MOVE:")[0]
    moves = ["approach , left", "approach , left", "approach , left", "approach , left", "carry , right", "carry , right"]
    table.reasoning[:] = [f"{base}MOVE: {m} , gripper close" for m in moves]
    ds = DemoDataset(table, policy.tokenizer, policy.config, policy.stats)
    w = ds.sampling_weights(0.0, phase_balance=1.0)
    assert w[:4].sum() == pytest.approx(w[4:].sum())
    assert w.mean() == pytest.approx(1.0)
    assert np.allclose(ds.sampling_weights(0.0, phase_balance=0.0), 1.0)


def test_too_few_rows_for_one_batch_is_refused_instead_of_spinning(tmp_path):
    data, out = tmp_path / "demos", tmp_path / "run"
    write_demos(data, episodes=1, steps=3)
    with pytest.raises(ValueError, match="cannot fill one batch of 64"):
        train(TrainSettings(data=str(data), out=str(out), steps=2, batch_size=64, threads=1, overrides=SMALL))


def test_an_evaluation_that_runs_past_the_time_limit_ends_the_run_with_one_evaluation(tmp_path, monkeypatch):
    import time

    import policy.training.training as training

    data, out = tmp_path / "demos", tmp_path / "ckpt"
    write_demos(data)
    real = training.evaluate_loss

    def slow_eval(*args, **kwargs):
        time.sleep(1.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "evaluate_loss", slow_eval)
    records = []
    train(TrainSettings(data=str(data), out=str(out), steps=50, batch_size=4, warmup=1, eval_every=2,
                        save_every=100, threads=1, time_limit=1.0, overrides=SMALL), records.append)
    evaluated = [r["step"] for r in records if "eval_text_loss" in r]
    assert evaluated == [records[-1]["step"]]  # stopped at the evaluation, not one step later
    assert load_checkpoint(out).meta["step"] == records[-1]["step"]


def test_a_run_stopped_part_way_saves_there_at_the_learning_rate_of_the_longer_schedule(tmp_path):
    # How a stage of the embedded checkpoint ended (scripts/reproduce_vla.sh): stopped at step 750
    # of a longer cosine, so its last steps ran at a higher rate than a 750-step run's would.
    data = tmp_path / "demos"
    write_demos(data)
    common = dict(data=str(data), batch_size=4, lr=3e-3, warmup=1, eval_every=100, save_every=100,
                  threads=1, overrides=SMALL)
    stopped, whole = [], []
    train(TrainSettings(out=str(tmp_path / "stopped"), steps=12, stop_at=4, **common), stopped.append)
    train(TrainSettings(out=str(tmp_path / "whole"), steps=4, **common), whole.append)
    assert [r["step"] for r in stopped] == [1, 2, 3, 4]
    assert "eval_text_loss" in stopped[-1]  # the stop is evaluated and saved like a run's end
    assert load_checkpoint(tmp_path / "stopped").meta["step"] == 4

    def last_lr(run: str) -> float:
        return torch.load(tmp_path / run / STATE_FILE, weights_only=False)["optim"]["param_groups"][0]["lr"]

    assert last_lr("stopped") > 2 * last_lr("whole")
