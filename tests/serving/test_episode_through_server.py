"""A whole agent episode with the embedded VLA served over the websocket (127.0.0.1)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from agent.remote_runtime import SERVER_BACK, SERVER_LOST
from agent.runner import RunConfig, run_all
from agent.scenario import load_scenarios
from serving.policy_backend import RuntimeBackend
from tests.serving.conftest import start_server

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "unambiguous-pick.yaml"
FAST = RunConfig(consistency="off")


def _events(report) -> list[dict]:
    return [json.loads(line) for line in Path(report.episodes[0].transcript).read_text().splitlines()]


def _run(config: RunConfig, run_dir: Path):
    loaded = load_scenarios([SCENARIO])
    return run_all(loaded.scenarios, loaded.errors, config, run_dir)


@pytest.fixture(scope="module")
def backend():
    return RuntimeBackend.from_checkpoint(FAST.policy_checkpoint)


@pytest.mark.slow
def test_the_served_episode_sends_the_in_process_actions(tmp_path, backend):
    local = _run(FAST, tmp_path / "local")
    server = start_server(backend)
    try:
        remote = _run(replace(FAST, policy_server=server.uri), tmp_path / "remote")
    finally:
        server.stop()
    sent = [[e["data"]["sent"] for e in _events(r) if e["kind"] == "action"] for r in (local, remote)]
    assert remote.episodes[0].passed and remote.episodes[0].success == local.episodes[0].success
    assert len(sent[0]) == len(sent[1]) > 0
    np.testing.assert_allclose(np.array(sent[1]), np.array(sent[0]), atol=1e-6)


@pytest.mark.slow
def test_a_server_killed_mid_episode_makes_the_arm_hold_and_the_agent_say_so(tmp_path, backend):
    server = start_server(backend)
    port, done = server.port, threading.Event()
    calls = {"n": 0}
    infer = backend.infer_batch

    def counting(requests):
        calls["n"] += len(requests)
        return infer(requests)

    backend.infer_batch = counting

    def kill_then_restart():  # bounded: gives up after 60 s
        deadline = time.monotonic() + 60
        while calls["n"] < 3 and time.monotonic() < deadline and not done.is_set():
            time.sleep(0.005)
        server.stop()
        time.sleep(1.0)
        restarted.append(start_server(backend, port=port))

    restarted: list = []
    killer = threading.Thread(target=kill_then_restart, daemon=True)
    killer.start()
    try:
        report = _run(replace(FAST, policy_server=server.uri, policy_server_wait_s=20), tmp_path / "run")
    finally:
        done.set()
        killer.join(timeout=30)
        backend.infer_batch = infer
        for s in [server, *restarted]:
            s.stop()
    events = _events(report)
    said = [e["text"] for e in events if e["kind"] == "say"]
    assert SERVER_LOST in said and SERVER_BACK in said and said.index(SERVER_LOST) < said.index(SERVER_BACK)
    lost = next(i for i, e in enumerate(events) if e["kind"] == "say" and e["text"] == SERVER_LOST)
    back = next(i for i, e in enumerate(events) if e["kind"] == "say" and e["text"] == SERVER_BACK)
    held = [e["data"]["sent"] for e in events[lost:back] if e["kind"] == "action"]
    assert held and all(np.allclose(a[:6], 0.0) for a in held)  # the arm stood still meanwhile
    assert report.episodes[0].error is None and report.episodes[0].success  # and finished the job after
