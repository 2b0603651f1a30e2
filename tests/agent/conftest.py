"""Shared setup of the tests that run the embedded policy alone on held-out sim episodes."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "vla"


@pytest.fixture
def policy_in_sim() -> Iterator[tuple[Any, Any]]:
    """(the embedded checkpoint, a 4-object TabletopEnv at its image size), on one torch thread
    as `main.py eval` runs it, so an episode is bit-for-bit the eval's."""
    import torch

    from policy.model.checkpoint import load_checkpoint
    from sim.tabletop_env import TabletopEnv

    policy = load_checkpoint(CHECKPOINT)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    env = TabletopEnv(image_size=policy.config.image_size, n_objects=4, max_episode_steps=160)
    try:
        yield policy, env
    finally:
        env.close()
        torch.set_num_threads(threads)
