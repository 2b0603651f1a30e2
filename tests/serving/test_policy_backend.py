"""The served runtime (a tiny random-init checkpoint) answers what the in-process runtime does."""

from __future__ import annotations

import numpy as np
import pytest

from agent.remote_runtime import RemoteRuntime
from policy.inference.rules import RuleSet
from policy.inference.runtime import RuntimeSettings, VLARuntime
from serving.client import PolicyClient
from serving.policy_backend import RuntimeBackend
from tests.policy.conftest import BOX_A, fake_obs, policy, tokenizer  # noqa: F401  (fixtures)
from tests.serving.conftest import start_server


def test_remote_chunks_equal_in_process_chunks_per_session(policy):  # noqa: F811
    backend = RuntimeBackend(policy)
    local = VLARuntime(policy, RuntimeSettings(rules=RuleSet.all().steered()))
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


def test_sessions_share_one_static_reasoning_cache_and_answer_as_alone(policy):  # noqa: F811
    from serving.requests import PolicyRequest

    backend = RuntimeBackend(policy, decode="static")
    alone = VLARuntime(policy, RuntimeSettings(rules=RuleSet.all().steered(), decode="static"))
    obs_a, obs_b = fake_obs(seed=1), fake_obs(seed=2)
    want = alone.predict_chunk(obs_a, "pick up the blue ball")
    # Single calls (batches of one), one session after the other.
    replies = backend.infer_batch([PolicyRequest("b", obs_b["rgb"], obs_b["state"], "put the red cube in the green bowl")])
    replies += backend.infer_batch([PolicyRequest("a", obs_a["rgb"], obs_a["state"], "pick up the blue ball")])
    assert all(isinstance(r, dict) for r in replies), replies
    np.testing.assert_allclose(replies[1]["actions"], want.actions, rtol=1e-5, atol=1e-6)
    assert replies[1]["reasoning"] == want.reasoning_text
    caches = {id(backend.sessions.get(s)._reasoning_cache) for s in ("a", "b")}
    assert len(caches) == 1 and backend._shared_cache is not None


def test_a_batch_of_sessions_answers_as_each_alone_and_orders_one_sessions_calls(policy):  # noqa: F811
    from serving.requests import PolicyRequest

    backend = RuntimeBackend(policy)
    alone = {s: VLARuntime(policy, RuntimeSettings(rules=RuleSet.all().steered())) for s in "abc"}
    obs = {s: [fake_obs(seed=k) for k in range(2)] for s in "abc"}
    prompts = {"a": "pick up the blue ball", "b": "put the red cube in the green bowl", "c": "pick up the blue ball"}
    # "a" twice in one batch: its second call must see its first call's reasoning (two waves).
    batch = [("a", 0), ("b", 0), ("a", 1), ("c", 0)]
    replies = backend.infer_batch([PolicyRequest(s, obs[s][k]["rgb"], obs[s][k]["state"], prompts[s]) for s, k in batch])
    for (s, k), reply in zip(batch, replies):
        want = alone[s].predict_chunk(obs[s][k], prompts[s])
        assert isinstance(reply, dict), reply
        np.testing.assert_allclose(reply["actions"], want.actions, rtol=1e-4, atol=1e-4)
        assert reply["reasoning"] == want.reasoning_text and reply["reasoned"] == want.reasoned


def test_a_failing_request_gets_its_error_and_the_rest_of_the_batch_its_answers(policy):  # noqa: F811
    from serving.requests import PolicyRequest

    backend = RuntimeBackend(policy)
    good = fake_obs(seed=3)
    bad_state = np.full(3, 0.1, dtype=np.float32)  # wrong length: normalising it fails
    replies = backend.infer_batch([PolicyRequest("x", good["rgb"], good["state"], "pick up the blue ball"),
                                   PolicyRequest("y", good["rgb"], bad_state, "pick up the blue ball")])
    want = VLARuntime(policy, RuntimeSettings(rules=RuleSet.all().steered())).predict_chunk(good, "pick up the blue ball")
    assert isinstance(replies[0], dict) and isinstance(replies[1], Exception)
    np.testing.assert_allclose(replies[0]["actions"], want.actions, rtol=1e-4, atol=1e-4)
