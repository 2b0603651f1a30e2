"""The served runtime (a tiny random-init checkpoint) answers what the in-process runtime does."""

from __future__ import annotations

import numpy as np
import pytest

from agent.remote_runtime import RemoteRuntime
from policy.runtime import RuntimeSettings, VLARuntime
from serving.client import PolicyClient
from serving.policy_backend import RuntimeBackend
from tests.policy.conftest import BOX_A, fake_obs, policy, tokenizer  # noqa: F401  (fixtures)
from tests.serving.conftest import start_server


def test_remote_chunks_equal_in_process_chunks_per_session(policy):  # noqa: F811
    backend = RuntimeBackend(policy)
    local = VLARuntime(policy, RuntimeSettings(rename_listed="off", hold_lost=()))
    server = start_server(backend)
    try:
        remote = RemoteRuntime(PolicyClient(server.uri, timeout_s=30))
        other = RemoteRuntime(PolicyClient(server.uri, timeout_s=30))
        assert remote.execute_steps == local.execute_steps and remote.config.image_size == policy.config.image_size
        for runtime in (local, remote):
            runtime.reset()
            runtime.steer(BOX_A)
        for k in range(3):  # a reasoning call, then reuse of the cached reasoning
            obs = fake_obs(seed=k)
            want = local.predict_chunk(obs, "put the red cube in the green bowl")
            got = remote.predict_chunk(obs, "put the red cube in the green bowl")
            other.predict_chunk(fake_obs(seed=9), "pick up the blue ball")  # another session between
            np.testing.assert_allclose(got.actions, want.actions, rtol=1e-5, atol=1e-6)
            assert got.reasoning_text == want.reasoning_text and got.confidence == pytest.approx(want.confidence)
        assert len(backend.sessions) == 2
    finally:
        server.stop()
