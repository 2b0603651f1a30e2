"""A policy server on 127.0.0.1 in a background thread, over a fake or a tiny real backend."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Optional

import numpy as np
import pytest

from serving.requests import PolicyRequest
from serving.server import PolicyServer, ServeConfig

STATE_DIM, CHUNK = 8, 4


class FakeBackend:
    """Chunks whose first action's x is the request's state[0] (so replies can be matched to
    requests); the prompt "explode" fails inference; ``delay_s`` per call."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls: list[PolicyRequest] = []

    def metadata(self) -> dict[str, Any]:
        return {"policy": "fake", "action_dim": 7, "chunk": CHUNK, "execute_steps": CHUNK, "state_dim": STATE_DIM,
                "image_size": 32, "writes_reasoning": True, "geometry_camera": None, "batching": "fused"}

    def infer_batch(self, requests: list[PolicyRequest]) -> list[Any]:
        out: list[Any] = []
        for r in requests:
            self.calls.append(r)
            time.sleep(self.delay_s)
            if r.prompt == "explode":
                out.append(RuntimeError("the model\nblew up"))
                continue
            actions = np.zeros((CHUNK, 7), dtype=np.float32)
            actions[:, 0] = r.state[0]
            out.append({"actions": actions, "reasoning": "TASK: fake", "confidence": 1.0,
                        "server_timing": {"infer_ms": 1000.0 * self.delay_s}})
        return out


class ServerThread:
    """``PolicyServer`` on its own event loop in a daemon thread; ``stop()`` is bounded."""

    def __init__(self, backend: Any, config: ServeConfig) -> None:
        self.server = PolicyServer(backend, config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(timeout=10)
        self.port = self.server.port
        self.uri = f"ws://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if not self.thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def start_server(backend: Any, *, port: int = 0, api_key: Optional[str] = None, max_batch: int = 8,
                 batch_wait_ms: float = 2.0, max_frame_bytes: int = 1 << 20) -> ServerThread:
    return ServerThread(backend, ServeConfig(host="127.0.0.1", port=port, api_key=api_key, max_batch=max_batch,
                                             batch_wait_ms=batch_wait_ms, max_frame_bytes=max_frame_bytes))


def request(x: float = 0.0, prompt: str = "pick up the red cube", size: tuple[int, int] = (24, 40)) -> dict[str, Any]:
    state = np.zeros(STATE_DIM, dtype=np.float32)
    state[0] = x
    return {"observation/image": np.zeros((*size, 3), dtype=np.uint8), "observation/state": state, "prompt": prompt}


@pytest.fixture()
def fake_server():
    server = start_server(FakeBackend(), api_key="secret")
    yield server
    server.stop()
