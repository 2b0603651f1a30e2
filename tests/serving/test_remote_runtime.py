"""Robot side: a lost server makes the arm hold (gripper kept), says so once, reconnects with backoff."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from common.proprio import Proprio

from agent.remote_runtime import SERVER_BACK, SERVER_GONE, SERVER_LOST, RemoteRuntime
from agent.vla_executor import VLAExecutor
from serving.client import PolicyClient
from tests.serving.conftest import FakeBackend, start_server


def _obs(x: float = 0.3, gripper: float = 1.0) -> dict:
    state = Proprio(x, 0.0, 0.0, 0.0, 0.0, 0.0, opening=0.0, command=gripper).to_array()
    return {"rgb": np.zeros((16, 16, 3), dtype=np.uint8), "state": state}


def test_holds_while_down_then_resumes_in_the_same_session():
    backend = FakeBackend()
    server = start_server(backend)
    port = server.port
    runtime = RemoteRuntime(PolicyClient(server.uri, timeout_s=5, backoff_s=0.05, max_backoff_s=0.2), give_up_s=30)
    assert runtime.predict_chunk(_obs(0.3), "pick up the red cube").actions[0, 0] == pytest.approx(0.3)
    server.stop()

    held = [runtime.predict_chunk(_obs(0.3, gripper=1.0), "pick up the red cube") for _ in range(3)]
    assert all(h.holding and h.actions.shape == (1, 7) for h in held)
    assert all(np.all(h.actions[0, :6] == 0) and h.actions[0, 6] == 1.0 for h in held)  # still, and still holding
    assert [h.notice for h in held] == [SERVER_LOST, None, None]  # said once

    server = start_server(backend, port=port)
    try:
        back = runtime.predict_chunk(_obs(0.7), "pick up the red cube")
        assert not back.holding and back.notice == SERVER_BACK and back.actions[0, 0] == pytest.approx(0.7)
        assert runtime.client.connections == 2
        assert len({r.session_id for r in backend.calls}) == 1  # the server kept one session across the loss
    finally:
        server.stop()


def test_backoff_paces_the_holds_and_gives_up_after_a_bounded_time():
    clock = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        clock[0] += s

    client = PolicyClient("ws://127.0.0.1:9", connect_timeout_s=0.5, backoff_s=0.1, max_backoff_s=0.4,
                          clock=lambda: clock[0])
    runtime = RemoteRuntime(client, give_up_s=2.0, clock=lambda: clock[0], sleep=sleep)
    chunks = [runtime.predict_chunk(_obs(gripper=0.0), "pick") for _ in range(12)]
    assert chunks[0].actions[0, 6] == 0.0  # an open hand stays open
    gave_up = [c.gave_up for c in chunks]
    assert True in gave_up and chunks[gave_up.index(True)].notice == SERVER_GONE
    assert slept[:4] == pytest.approx([0.1, 0.2, 0.4, 0.4])  # doubling, capped
    assert clock[0] <= 2.0 + 0.4


def test_the_executor_holds_without_counting_steps_and_ends_after_give_up():
    client = PolicyClient("ws://127.0.0.1:9", connect_timeout_s=0.5, backoff_s=0.0)
    executor = VLAExecutor(RemoteRuntime(client, give_up_s=0.0), steer=False)
    executor.reset(None)
    out = executor.select_action(_obs(), "pick up the red cube", [])
    assert out.scripted and len(out.actions) == 0 and out.notice == SERVER_GONE and executor.done


def test_the_robot_side_imports_no_torch():
    code = ("import sys\n"
            "for name in ('torch', 'transformers', 'peft'): sys.modules[name] = None\n"
            "import serving.client, serving.codec, agent.remote_runtime\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-1000:]


def test_a_new_connection_carries_the_motions_steering_again():
    """Another replica (or a restarted server) does not hold the session: the steering goes again."""
    first = FakeBackend()
    server = start_server(first)
    port = server.port
    runtime = RemoteRuntime(PolicyClient(server.uri, timeout_s=5, backoff_s=0.05, max_backoff_s=0.2), give_up_s=30)
    runtime.steer((0.1, 0.2, 0.3, 0.4), (0.5, 0.5, 0.7, 0.7))
    runtime.predict_chunk(_obs(), "put the red cube in the bowl")
    runtime.predict_chunk(_obs(), "put the red cube in the bowl")
    assert [r.steer is not None for r in first.calls] == [True, False]  # sent once per connection
    server.stop()
    assert runtime.predict_chunk(_obs(), "put the red cube in the bowl").holding
    second = FakeBackend()  # a fresh process: no sessions
    server = start_server(second, port=port)
    try:
        time.sleep(0.25)  # past the client's backoff
        assert not runtime.predict_chunk(_obs(), "put the red cube in the bowl").holding
        assert second.calls[0].steer is not None and second.calls[0].steer.target == (0.1, 0.2, 0.3, 0.4)
    finally:
        server.stop()
