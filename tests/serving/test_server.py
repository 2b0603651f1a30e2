"""The websocket server: handshake, keys, bad frames, sessions and batching (127.0.0.1 only)."""

from __future__ import annotations

import threading
import urllib.request

import msgpack
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from serving.client import PolicyClient, PolicyServerError
from serving.codec import packb
from serving.policy_backend import SessionStore
from tests.serving.conftest import CHUNK, FakeBackend, request, start_server

KEY = {"Authorization": "Api-Key secret"}


def test_healthz_answers_200_without_a_key(fake_server):
    with urllib.request.urlopen(f"http://127.0.0.1:{fake_server.port}/healthz", timeout=5) as reply:
        assert reply.status == 200


def test_metadata_first_then_actions(fake_server):
    client = PolicyClient(fake_server.uri, api_key="secret", timeout_s=5)
    meta = client.metadata
    assert {"policy", "action_dim", "chunk", "state_dim", "image_size", "writes_reasoning"} <= set(meta)
    reply = client.infer(request(0.25, size=(300, 200)))  # any image size: the server resizes
    assert reply["actions"].dtype == np.float32 and reply["actions"].shape == (CHUNK, 7)
    assert reply["actions"][0, 0] == pytest.approx(0.25)
    assert isinstance(reply["reasoning"], str) and "infer_ms" in reply["server_timing"]
    client.close()


def _pack_openpi(obj):
    """openpi-client's msgpack_numpy.pack_array, written with msgpack alone."""
    if isinstance(obj, np.ndarray):
        return {b"__ndarray__": True, b"data": obj.tobytes(), b"dtype": obj.dtype.str, b"shape": obj.shape}
    return obj


def _unpack_openpi(obj):
    if b"__ndarray__" in obj:
        return np.ndarray(buffer=obj[b"data"], dtype=np.dtype(obj[b"dtype"]), shape=obj[b"shape"])
    return obj


def test_a_bare_websockets_and_msgpack_client_is_served(fake_server):
    """What an openpi-style client does, with no code of this project."""
    with connect(fake_server.uri, additional_headers=KEY, open_timeout=5) as ws:
        meta = msgpack.unpackb(ws.recv(timeout=5), object_hook=_unpack_openpi)
        assert meta["chunk"] == CHUNK
        ws.send(msgpack.packb(request(0.5), default=_pack_openpi, use_bin_type=True))
        reply = msgpack.unpackb(ws.recv(timeout=5), object_hook=_unpack_openpi)
    assert reply["actions"].shape == (CHUNK, 7) and reply["actions"][0, 0] == pytest.approx(0.5)


def _one_line(ws, frame) -> str:
    ws.send(frame)
    answer = ws.recv(timeout=5)
    assert isinstance(answer, str) and "\n" not in answer
    return answer


def test_bad_frames_get_one_line_errors_and_everyone_keeps_being_served(fake_server):
    good = PolicyClient(fake_server.uri, api_key="secret", timeout_s=5)
    with connect(fake_server.uri, additional_headers=KEY, open_timeout=5) as ws:
        ws.recv(timeout=5)  # metadata
        assert _one_line(ws, b"\xc1\xc1 not msgpack").startswith("bad request: not a msgpack frame")
        wrong = request()
        wrong["observation/state"] = np.zeros(3, dtype=np.float32)
        assert "observation/state must be float [8]" in _one_line(ws, packb(wrong))
        gray = request()
        gray["observation/image"] = np.zeros((8, 8), dtype=np.uint8)
        assert "uint8 HxWx3" in _one_line(ws, packb(gray))
        assert _one_line(ws, packb(request(prompt="explode"))) == "inference failed: the model blew up"
        assert _one_line(ws, "a text frame").startswith("bad request")
        assert good.infer(request(0.1))["actions"][0, 0] == pytest.approx(0.1)  # another client: unaffected
        ws.send(packb(request(0.2)))  # the same connection still works after its errors
        assert isinstance(ws.recv(timeout=5), bytes)
    good.close()


def test_a_rejected_key_is_refused_at_the_handshake(fake_server):
    for headers in ({"Authorization": "Api-Key wrong"}, None):
        with pytest.raises(InvalidStatus) as refused:
            connect(fake_server.uri, additional_headers=headers, open_timeout=5)
        assert refused.value.response.status_code == 401
    with pytest.raises(PolicyServerError, match="refused the API key"):
        PolicyClient(fake_server.uri, api_key="wrong").connect()
    assert PolicyClient(fake_server.uri, api_key="secret", timeout_s=5).infer(request(0.3))["actions"][0, 0] == pytest.approx(0.3)


def test_an_oversized_frame_closes_only_that_connection():
    server = start_server(FakeBackend(), max_frame_bytes=64 * 1024)
    try:
        good = PolicyClient(server.uri, timeout_s=5)
        good.connect()
        with connect(server.uri, open_timeout=5, max_size=None) as ws:
            ws.recv(timeout=5)
            ws.send(packb(request(size=(200, 200))))  # 120 kB image > 64 kB
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        assert good.infer(request(0.4))["actions"][0, 0] == pytest.approx(0.4)
    finally:
        server.stop()


def test_concurrent_clients_are_batched_and_each_gets_its_own_reply():
    backend = FakeBackend(delay_s=0.02)
    server = start_server(backend, max_batch=4, batch_wait_ms=20)
    try:
        clients = [PolicyClient(server.uri, timeout_s=10) for _ in range(4)]
        for c in clients:
            c.connect()
        got: dict[int, list[float]] = {i: [] for i in range(4)}

        def drive(i: int) -> None:
            for k in range(5):
                got[i].append(float(clients[i].infer(request(i + k / 10))["actions"][0, 0]))

        threads = [threading.Thread(target=drive, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert all(got[i] == pytest.approx([i + k / 10 for k in range(5)]) for i in range(4))
        assert max(server.server.batch_sizes) > 1 and max(server.server.batch_sizes) <= 4
    finally:
        server.stop()


def test_a_lone_client_never_waits_for_a_batch():
    server = start_server(FakeBackend(), batch_wait_ms=500)
    try:
        client = PolicyClient(server.uri, timeout_s=5)
        timing = client.infer(request())["server_timing"]
        assert timing["queue_ms"] < 100 and timing["batch_size"] == 1
    finally:
        server.stop()


def test_sessions_expire_after_their_ttl_and_stay_while_used():
    now = [0.0]
    store = SessionStore(object, ttl_s=10.0, max_sessions=2, clock=lambda: now[0])
    first = store.get("a")
    now[0] = 5.0
    assert store.get("a") is first  # same session, same runtime (its reasoning cache)
    store.get("b")
    now[0] = 16.0
    store.get("b")
    assert "a" not in store and "b" in store  # a: 11 s idle
    store.get("c")
    store.get("d")
    assert len(store) == 2 and "b" not in store  # past max_sessions: least recently used goes
