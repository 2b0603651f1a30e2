"""`main.py serve` as a person runs it: the embedded checkpoint, a key, /healthz, one call."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

from benchmarks.bench_serving import free_port
from serving.client import PolicyClient

ROOT = Path(__file__).resolve().parents[2]


def test_serve_command_answers_health_and_a_keyed_client():
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "serve", "--port", str(port), "--api-key", "k"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read()[-1000:]
            assert time.monotonic() < deadline, "server not up in 60 s"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as reply:
                    assert reply.status == 200
                break
            except OSError:
                time.sleep(0.2)
        client = PolicyClient(f"ws://127.0.0.1:{port}", api_key="k", timeout_s=30)
        meta = client.metadata
        assert meta["state_dim"] == 8 and meta["action_dim"] == 7 and meta["writes_reasoning"]
        reply = client.infer({"observation/image": np.zeros((120, 160, 3), np.uint8),
                              "observation/state": np.zeros(8, np.float32), "prompt": "pick up the red cube"})
        assert reply["actions"].shape == (meta["chunk"], 7) and reply["reasoning"].startswith("TASK")
        client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
