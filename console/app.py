"""The console's agent side: one worker thread opens a session (``open_live``, the same as
``main.py session``), runs the same ``converse`` loop with the page as its channel, and on
request leaves it for another session; the server thread only queues what the page says.
"""

from __future__ import annotations

import argparse
import copy
import threading
from typing import Any, Optional

from agent.commands.session import DEFAULT_RUN_DIR, LiveSession, converse, open_live
from agent.session_store import SessionError, check_session_id

from console.feed import Feed
from console.messages import BadMessage, Choose, ListSessions, OpenSession, SayText, Stop, parse_message
from console.page_channel import PageChannel, Switch
from console.sessions import history, list_sessions
from console.watched_arm import WatchedArm


class ConsoleApp:
    """The agent thread and what the server asks of it (``handle_text``, ``hear``)."""

    def __init__(self, args: argparse.Namespace, feed: Optional[Feed] = None, transcriber: Any = None) -> None:
        self.args = args
        self.feed = feed or Feed()
        self.channel = PageChannel(self.feed)
        self.transcriber = transcriber  # perception.speech.stt.WhisperTranscriber for push-to-talk, or None
        self.live: Optional[LiveSession] = None
        self.error: Optional[BaseException] = None
        self.opened = threading.Event()  # a session is open (tests, benchmarks wait for it)
        self._thread: Optional[threading.Thread] = None

    @property
    def run_dir(self):
        return self.args.run_dir or DEFAULT_RUN_DIR

    # ------------------------------------------------------------------ agent thread
    def start(self) -> "ConsoleApp":
        self._thread = threading.Thread(target=self._agent, name="console-agent", daemon=True)
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """The agent thread is alive (it ends when the page's session closes or on an error)."""
        return self._thread is not None and self._thread.is_alive()

    def close(self, timeout: float = 30.0) -> None:
        """End the session (after the current turn) and wait for the agent thread."""
        self.channel.request_switch(Switch(close=True))
        if self._thread is not None:
            self._thread.join(timeout)

    def _agent(self) -> None:
        session_id, previous = self.args.session_id, None
        try:
            while True:
                try:
                    switch = self._one_session(session_id)
                except SessionError as exc:
                    if previous is None:  # the first session cannot open: the command says why
                        raise
                    self.feed.post({"type": "note", "text": str(exc)})
                    session_id = previous  # back to the table it came from
                    continue
                if switch is None or switch.close:
                    return
                previous, session_id = self.live.session_id if self.live else None, switch.session_id
        except BaseException as exc:  # shown on the page and kept for the command's exit
            self.error = exc
            self.feed.post({"type": "note", "text": f"error: {exc}"}, sticky="error")
        finally:
            self.opened.set()

    def _one_session(self, session_id: Optional[str]) -> Optional[Switch]:
        args = copy.copy(self.args)  # a resume puts the saved session's settings on its own copy
        args.session_id = session_id
        self.channel.switch = None
        self.feed.clear_sticky()
        with open_live(args, self.channel, on_event=self._on_event, arm_view=self._watch) as live:
            self.live, self.channel.live = live, live
            self.feed.post(self._session_message(live, args), sticky="session")
            self.opened.set()
            converse(live, self.channel)
        return self.channel.switch

    def _watch(self, arm: Any) -> WatchedArm:
        self.channel.arm = WatchedArm(arm, self.feed)
        return self.channel.arm

    def _on_event(self, event: Any) -> None:
        if event.kind == "action" and event.text == "hold":
            self.feed.event(event)
            self.channel.held()
            return
        self.feed.event(event)

    def _session_message(self, live: LiveSession, args: argparse.Namespace) -> dict[str, Any]:
        return {"type": "session", "id": live.session_id, "folder": str(live.folder), "resumed": live.resumed,
                "policy": args.policy, "image_size": args.image_size, "voice": self.transcriber is not None,
                "objects": [o.describe() for o in live.record.scene.objects],
                "history": [{"kind": e.kind, "text": e.text} for e in history(live.folder)],
                "sessions": list_sessions(self.run_dir)}

    # ------------------------------------------------------------------ from the page (server thread)
    def handle_text(self, text: str) -> Optional[dict[str, Any]]:
        """One page message; the direct reply to that page, if any."""
        try:
            message = parse_message(text)
        except BadMessage as exc:
            return {"type": "note", "text": str(exc)}
        if isinstance(message, SayText):
            self.channel.put_text(message.text)
        elif isinstance(message, Choose):
            if self.channel.choose(message.number) is None:
                return {"type": "note", "text": f"there is no candidate {message.number} to choose now"}
        elif isinstance(message, Stop):
            if not self.channel.stop(message.t_page / 1000 if message.t_page else None):
                return {"type": "note", "text": "the arm is not moving"}
        elif isinstance(message, OpenSession):
            if message.session_id is not None:
                try:
                    check_session_id(message.session_id)
                except SessionError as exc:
                    return {"type": "note", "text": str(exc)}
            if not self.channel.request_switch(Switch(session_id=message.session_id)):
                return {"type": "note", "text": "the robot is busy: wait for it to finish, or STOP it first"}
        elif isinstance(message, ListSessions):
            return {"type": "sessions", "sessions": list_sessions(self.run_dir)}
        return None

    def hear(self, wav: bytes) -> Optional[dict[str, Any]]:
        """Push-to-talk: the page's WAV through the session's whisper path; what was heard is
        said to the agent like typed words."""
        if self.transcriber is None:
            return {"type": "note", "text": "voice is off: start the console with --voice"}
        from perception.speech.audio import parse_wav

        try:
            audio = parse_wav(wav, "push-to-talk audio")
        except ValueError as exc:
            return {"type": "note", "text": str(exc)}
        heard = self.transcriber.transcribe(audio)
        if not heard.text:
            return {"type": "note", "text": "I did not catch that (no speech heard)"}
        self.channel.put_text(heard.text)
        return {"type": "heard", "text": heard.text, "confidence": round(heard.confidence, 3)}
