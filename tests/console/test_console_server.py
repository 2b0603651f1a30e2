"""The console's server without a browser: access token and origin checks, bad messages, the
assets are all local, sessions listed and resumed on the same transcript and checkpoint, and
push-to-talk audio heard through the session's whisper path. Servers on 127.0.0.1 only."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest
from websockets.sync.client import connect

from console.app import ConsoleApp
from console.headless import console_args, running_console
from console.server import STATIC, ConsoleServer, needs_token

REPO = Path(__file__).resolve().parents[2]
TWO_RED = str(REPO / "scenarios" / "two-red-cubes.yaml")


def receive_until(ws: Any, want: Callable[[dict], bool], timeout: float = 60.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        message = json.loads(ws.recv(timeout=max(0.1, end - time.monotonic())))
        if want(message):
            return message
    raise TimeoutError("the message did not come")


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_a_host_other_than_loopback_needs_a_token() -> None:
    assert not needs_token("127.0.0.1") and not needs_token("localhost")
    assert needs_token("0.0.0.0") and needs_token("192.168.1.20")
    with pytest.raises(ValueError, match="token"):
        ConsoleServer(ConsoleApp(console_args([])), "0.0.0.0", 0, token=None)


def test_token_is_checked_on_every_request_and_then_carried_by_a_cookie(tmp_path: Path) -> None:
    app = ConsoleApp(console_args(["--run-dir", str(tmp_path)]))  # no session: the server alone
    server = ConsoleServer(app, "127.0.0.1", 0, token="s3cret-token").start_in_thread()
    try:
        base = f"http://127.0.0.1:{server.bound_port}"
        assert get(base + "/")[0] == 401
        assert get(base + "/?token=wrong")[0] == 401
        status, headers, body = get(base + "/?token=s3cret-token")
        assert status == 200 and b"STOP" in body
        cookie = headers["Set-Cookie"].split(";")[0]
        assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
        assert get(base + "/console.js", {"Cookie": cookie})[0] == 200
        assert get(base + "/console.js")[0] == 401
        with pytest.raises(Exception):
            connect(f"ws://127.0.0.1:{server.bound_port}/ws", open_timeout=10).close()
        with connect(f"ws://127.0.0.1:{server.bound_port}/ws", additional_headers={"Cookie": cookie},
                     open_timeout=10) as ws:
            ws.send('{"type": "dance"}')
            note = receive_until(ws, lambda m: m["type"] == "note")
            assert note["text"].startswith("bad message:") and "\n" not in note["text"]
    finally:
        server.stop()


def test_websocket_from_another_origin_is_refused_and_only_assets_are_served(tmp_path: Path) -> None:
    server = ConsoleServer(ConsoleApp(console_args(["--run-dir", str(tmp_path)])), "127.0.0.1", 0).start_in_thread()
    try:
        port = server.bound_port
        with pytest.raises(Exception, match="403"):
            connect(f"ws://127.0.0.1:{port}/ws", origin="http://evil.example", open_timeout=10).close()
        with connect(f"ws://127.0.0.1:{port}/ws", origin=f"http://127.0.0.1:{port}", open_timeout=10):
            pass
        assert get(f"http://127.0.0.1:{port}/../console/server.py")[0] == 404
        assert get(f"http://127.0.0.1:{port}/server.py")[0] == 404
    finally:
        server.stop()


def test_the_page_loads_nothing_from_outside() -> None:
    for path in STATIC.iterdir():
        text = path.read_text()
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, flags=re.I), f"{path.name} links outside"


def test_sessions_are_listed_and_resumed_on_the_same_transcript_and_checkpoint(tmp_path: Path) -> None:
    with running_console(["--scene", TWO_RED, "--policy", "expert", "--run-dir", str(tmp_path)]) as (app, server):
        first = app.live.session_id
        with connect(f"ws://127.0.0.1:{server.bound_port}/ws", open_timeout=10) as ws:
            receive_until(ws, lambda m: m["type"] == "asking")
            ws.send(json.dumps({"type": "say", "text": "put the red cube in the green bowl"}))
            question = receive_until(ws, lambda m: m["type"] == "asking" and m["question"])["question"]
            assert [c["number"] for c in question["candidates"]] == [1, 2]
            ws.send(json.dumps({"type": "open_session", "session_id": None}))  # leave it with the question open
            new = receive_until(ws, lambda m: m["type"] == "session")
            assert new["id"] != first and not new["resumed"]
            assert {s["id"] for s in new["sessions"]} == {first, new["id"]}
            receive_until(ws, lambda m: m["type"] == "asking")  # sessions switch while the robot is idle
            ws.send(json.dumps({"type": "open_session", "session_id": first}))
            back = receive_until(ws, lambda m: m["type"] == "session")
            assert back["id"] == first and back["resumed"]
            assert [h["text"] for h in back["history"] if h["kind"] == "utterance"] == ["put the red cube in the green bowl"]
            again = receive_until(ws, lambda m: m["type"] == "asking")
            assert again["question"]["text"] == question["text"]  # the pending question, from the SQLite checkpoint
            ws.send(json.dumps({"type": "choose", "number": 2}))
            done = receive_until(ws, lambda m: m["type"] == "event" and m["kind"] == "outcome")
            assert done["data"]["success"]
    folders = sorted(p.name for p in tmp_path.iterdir())
    assert first in folders and len(folders) == 2
    assert (tmp_path / first / "checkpoint.sqlite").is_file()


@pytest.mark.slow  # piper + whisper loads: ~30 s on the loaded 2-core box
@pytest.mark.audio
def test_push_to_talk_goes_through_the_sessions_whisper_path(tmp_path: Path) -> None:
    from perception.speech.audio import write_wav
    from perception.speech.stt import WhisperTranscriber
    from perception.speech.synthesize import VoiceSynthesizer

    wav = write_wav(tmp_path / "said.wav", VoiceSynthesizer().synthesize("put the red cube in the green bowl",
                                                                        voice="piper").resampled(16_000))
    with running_console(["--scene", TWO_RED, "--policy", "expert", "--run-dir", str(tmp_path / "runs")]) as (app, server):
        app.transcriber = WhisperTranscriber()
        with connect(f"ws://127.0.0.1:{server.bound_port}/ws", open_timeout=10) as ws:
            receive_until(ws, lambda m: m["type"] == "asking")
            ws.send(wav.read_bytes())
            heard = receive_until(ws, lambda m: m["type"] == "heard", timeout=120)
            assert "red cube" in heard["text"].lower()
            question = receive_until(ws, lambda m: m["type"] == "asking" and m["question"])
            assert len(question["question"]["candidates"]) == 2
            ws.send(b"not a wav")
            assert "not a RIFF/WAVE" in receive_until(ws, lambda m: m["type"] == "note")["text"]


def test_a_correction_typed_mid_motion_reaches_the_arm(tmp_path: Path) -> None:
    scene = str(REPO / "scenarios" / "correction-other-one.yaml")
    with running_console(["--scene", scene, "--policy", "expert", "--run-dir", str(tmp_path)]) as (app, server):
        with connect(f"ws://127.0.0.1:{server.bound_port}/ws", open_timeout=10) as ws:
            receive_until(ws, lambda m: m["type"] == "asking")
            ws.send(json.dumps({"type": "say", "text": "pick up the green cube on the left"}))
            receive_until(ws, lambda m: m["type"] == "state" and m["status"] == "moving" and m["step"] >= 5)
            ws.send(json.dumps({"type": "say", "text": "no, the other one"}))
            heard = receive_until(ws, lambda m: m["type"] == "event" and m["kind"] == "interjection")
            assert heard["text"] == "no, the other one" and heard["data"]["kind"] == "other"
            done = receive_until(ws, lambda m: m["type"] == "event" and m["kind"] == "outcome")
    assert done["data"]["success"] and done["data"]["acted_on"] == "right"
