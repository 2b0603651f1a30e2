"""The openpi-shaped policy: infer(obs) -> actions + reasoning, and the chunk broker's queue."""

from __future__ import annotations

import numpy as np

from policy.inference.policy import ActionChunkBroker, VLAPolicy
from policy.inference.rules import RuleSet
from policy.inference.runtime_settings import RuntimeSettings
from tests.policy.conftest import fake_obs

PROMPT = "put the red cube in the green bowl"


def openpi_obs(seed: int = 0) -> dict:
    obs = fake_obs(seed=seed)
    return {"observation/image": obs["rgb"], "observation/state": obs["state"], "prompt": PROMPT}


def test_infer_reads_openpi_keys_and_returns_a_chunk_with_its_reasoning(policy):
    out = VLAPolicy.from_loaded(policy).infer(openpi_obs())
    assert out["actions"].shape == (policy.config.chunk_size, 7)
    assert out["reasoned"] and out["reasoning_text"]
    assert set(np.unique(out["actions"][:, 6])) <= {0.0, 1.0}  # gripper_threshold is on by default


def test_the_network_alone_sends_the_regressed_gripper(policy):
    alone = VLAPolicy.from_loaded(policy, RuntimeSettings(rules=RuleSet.none())).infer(openpi_obs())
    ruled = VLAPolicy.from_loaded(policy).infer(openpi_obs())
    assert not set(np.unique(alone["actions"][:, 6])) <= {0.0, 1.0}
    assert ruled["actions"].shape == alone["actions"].shape


class _Counting:
    def __init__(self, chunk: int) -> None:
        self.calls, self.chunk, self.resets = 0, chunk, 0

    def infer(self, obs: dict) -> dict:
        self.calls += 1
        return {"actions": np.arange(self.chunk * 7, dtype=np.float32).reshape(self.chunk, 7) + 100 * self.calls}

    def reset(self) -> None:
        self.resets += 1


def test_the_broker_calls_the_policy_once_per_horizon_and_again_on_new_words():
    inner = _Counting(chunk=8)
    broker = ActionChunkBroker(inner, action_horizon=3)
    sent = [broker.infer({"prompt": "a"})["actions"] for _ in range(6)]
    assert inner.calls == 2
    np.testing.assert_array_equal(sent[3], sent[0] + 100)  # the second chunk's first action
    broker.infer({"prompt": "b"})
    assert inner.calls == 3  # new words: the queued action was dropped
    broker.reset()
    assert inner.resets == 1
    broker.infer({"prompt": "b"})
    assert inner.calls == 4
