"""CUDA checks (marked ``gpu``; run with ``pytest -m gpu tests/policy`` on a machine with a GPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from policy.model.checkpoint import load_checkpoint
from policy.inference.runtime import VLARuntime
from policy.training.training import TrainSettings, train

from tests.policy.conftest import fake_obs
from tests.policy.test_data_and_training import SMALL, write_demos

pytestmark = pytest.mark.gpu


@pytest.fixture(autouse=True)
def _needs_cuda():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")


def test_bf16_training_on_cuda_learns_and_the_checkpoint_serves_on_cpu_and_cuda(tmp_path):
    data, out = tmp_path / "demos", tmp_path / "ckpt"
    write_demos(data, episodes=3)
    records = []
    train(TrainSettings(data=str(data), out=str(out), steps=30, batch_size=4, lr=3e-3, warmup=1, eval_every=30,
                        save_every=30, overrides=SMALL, device="cuda", loc_sigma=8.0, target_eval_scenes=1,
                        eval_fraction=0.34), records.append)
    assert records[-1]["text_loss"] < records[0]["text_loss"]
    for device in ("cpu", "cuda"):
        policy = load_checkpoint(out, device=device)
        chunk = VLARuntime(policy, device=device).predict_chunk(fake_obs(32), "put the red cube in the green bowl")
        assert chunk.actions.shape == (policy.config.chunk_size, 7) and np.isfinite(chunk.actions).all()


def test_embedded_checkpoint_writes_the_same_reasoning_with_the_compiled_decode_on_cuda():
    """The runtime's decode modes on the card: same chain of thought, and how long a call takes."""
    import time
    from pathlib import Path

    from policy.inference.runtime import RuntimeSettings

    policy = load_checkpoint(Path(__file__).resolve().parents[2] / "checkpoints" / "vla", device="cuda")
    size = policy.config.image_size
    frames = [fake_obs(size, seed) for seed in range(4)]
    texts: dict[str, list[str]] = {}
    for mode in ("dynamic", "compiled"):
        runtime = VLARuntime(policy, RuntimeSettings(decode=mode), device="cuda")
        runtime.predict_chunk(frames[0], "put the red cube in the green bowl")  # compiles, for 'compiled'
        texts[mode], spent = [], []
        for obs in frames:
            runtime.reset()
            torch.cuda.synchronize()
            start = time.perf_counter()
            chunk = runtime.predict_chunk(obs, "put the red cube in the green bowl")
            torch.cuda.synchronize()
            spent.append(time.perf_counter() - start)
            texts[mode].append(chunk.reasoning_text)
        print(f"{mode}: reasoning call {1000 * float(np.median(spent)):.1f} ms median on {torch.cuda.get_device_name()}")
    assert texts["compiled"] == texts["dynamic"]
