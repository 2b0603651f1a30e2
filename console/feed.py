"""What the agent thread publishes for the page, and how it crosses to the server's event loop.

The agent (a worker thread) calls :meth:`Feed.event`, :meth:`Feed.state` and :meth:`Feed.frame`;
each connected page has a :class:`Subscriber` on the server's asyncio loop. Chat-like events are
queued in order; the arm state and the camera frame are *latest-wins* slots (a slow page skips
stale ones instead of falling behind). Nothing is encoded while no page is connected, so the
control loop pays for streaming only when somebody watches.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

#: Transcript kinds the page shows (the per-step "action" events become state messages instead).
PAGE_EVENTS = frozenset({"utterance", "say", "question", "answer", "perception", "grounding", "decision",
                         "reasoning", "interjection", "consistency", "self_check", "own_check", "outcome"})

#: Of those, the latest of each kind is replayed to a page that connects later (the overlay).
STICKY_EVENTS = frozenset({"perception", "decision", "reasoning"})


@dataclass(frozen=True)
class ArmState:
    """The arm after one control step, as the simulator left it."""

    t: float  # wall-clock seconds (time.time()) when the state was read, right after the step
    step: int  # control steps sent since the console started
    state: tuple[float, ...]  # sim.arm state (8,): ee xyz m, rpy rad, opening 0..1, grip command 0..1
    status: str  # moving | held | idle | busy

    def message(self) -> dict[str, Any]:
        s = self.state
        return {"type": "state", "t": self.t, "step": self.step, "status": self.status,
                "ee": [round(v, 4) for v in s[:3]], "rpy": [round(v, 3) for v in s[3:6]],
                "opening": round(s[6], 3), "grip": round(s[7], 3)}


@dataclass(frozen=True)
class Frame:
    """One camera frame (the robot's own observation)."""

    seq: int
    t: float  # wall-clock seconds when rendered
    rgb: np.ndarray  # uint8 (H, W, 3)


def encode_frame(frame: Frame, quality: int = 85) -> dict[str, Any]:
    """The frame as a page message: JPEG, base64."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(frame.rgb).save(buf, format="JPEG", quality=quality)
    return {"type": "frame", "seq": frame.seq, "t": frame.t, "w": int(frame.rgb.shape[1]),
            "h": int(frame.rgb.shape[0]), "jpeg": base64.b64encode(buf.getvalue()).decode("ascii")}


class Subscriber:
    """One page: its ordered messages and what it has seen of the latest-wins slots.

    The agent thread wakes it at most once until it has drained (``pending``); states go out
    at most every ``feed.min_state_interval_s`` and frames every ``feed.min_frame_interval_s``
    (a later wake is scheduled for what had to wait), so a fast control loop costs the page's
    side a bounded number of sends per second."""

    def __init__(self, feed: "Feed", loop: asyncio.AbstractEventLoop) -> None:
        self.feed = feed
        self.loop = loop
        self.messages: deque[dict[str, Any]] = deque()
        self.wake = asyncio.Event()
        self.pending = False  # a wake is on its way (set by the agent thread, cleared here)
        self.state_key: tuple[int, str, float] = (-1, "", 0.0)
        self.state_sent_at = 0.0
        self.frame_seq = -1
        self.frame_sent_at = 0.0
        self._later: Optional[asyncio.TimerHandle] = None

    async def next_messages(self) -> list[str]:
        """Wait for something new; the JSON texts to send, in order (events, state, frame)."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            self.pending = False
            out = [json.dumps(m) for m in self._drain()]
            if out:
                return out

    def _drain(self) -> list[dict[str, Any]]:
        out = list(self.messages)
        self.messages.clear()
        now = time.monotonic()
        waits = []
        state = self.feed.latest_state
        if state is not None and (state.step, state.status, state.t) != self.state_key:
            wait = self.feed.min_state_interval_s - (now - self.state_sent_at)
            if wait <= 0 or state.status != "moving":
                self.state_key, self.state_sent_at = (state.step, state.status, state.t), now
                out.append(state.message())
            else:
                waits.append(wait)
        frame = self.feed.latest_frame
        if frame is not None and frame.seq != self.frame_seq:
            wait = self.feed.min_frame_interval_s - (now - self.frame_sent_at)
            if wait <= 0:
                self.frame_seq, self.frame_sent_at = frame.seq, now
                out.append(self.feed.encoded(frame))
            else:
                waits.append(wait)
        if waits and self._later is None:  # come back when the rates allow it
            self._later = self.loop.call_later(min(waits), self._wake_later)
        return out

    def _wake_later(self) -> None:
        self._later = None
        self.wake.set()


class Feed:
    """Thread-safe hub between the agent thread (publisher) and the pages (subscribers)."""

    def __init__(self, max_fps: float = 10.0, max_states_per_s: float = 30.0) -> None:
        self.min_frame_interval_s = 1.0 / max_fps
        self.min_state_interval_s = 1.0 / max_states_per_s
        self.latest_state: Optional[ArmState] = None
        self.latest_frame: Optional[Frame] = None
        self.status = "busy"
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._steps = 0
        self.started = 0  # control steps begun (a STOP counts the steps begun after it arrived)
        self._frames = 0
        self._encoded: tuple[int, dict[str, Any]] = (-1, {})
        self._raw_state: Optional[tuple[float, tuple[float, ...]]] = None
        # Wall-clock time of each recent control step (the benchmark's control-loop rate).
        self.step_times: deque[float] = deque(maxlen=20_000)
        # Latest message per key that a page connecting later must see first (session, turn, ...).
        self._sticky: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ subscribers (server loop)
    def subscribe(self, loop: asyncio.AbstractEventLoop) -> Subscriber:
        sub = Subscriber(self, loop)
        with self._lock:
            sub.messages.extend(self._sticky.values())  # a page opened late starts where the others are
            self._subscribers.append(sub)
        sub.wake.set()
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            if sub in self._subscribers:
                self._subscribers.remove(sub)

    @property
    def watched(self) -> bool:
        """A page is connected (frames are worth rendering and encoding)."""
        return bool(self._subscribers)

    def encoded(self, frame: Frame) -> dict[str, Any]:
        """The frame's page message, encoded once for every page."""
        if self._encoded[0] != frame.seq:
            self._encoded = (frame.seq, encode_frame(frame))
        return self._encoded[1]

    # ------------------------------------------------------------------ publishers (agent thread)
    def post(self, message: dict[str, Any], sticky: Optional[str] = None) -> None:
        """An ordered message to every page (chat, events, questions, session changes);
        ``sticky``: also kept under that key for pages that connect later."""
        with self._lock:
            if sticky is not None:
                self._sticky.pop(sticky, None)
                self._sticky[sticky] = message
            subs = list(self._subscribers)
        for sub in subs:
            sub.loop.call_soon_threadsafe(self._deliver, sub, message)

    def clear_sticky(self) -> None:
        """Forget the replayed messages (another session opens)."""
        with self._lock:
            self._sticky.clear()

    def begin_step(self) -> None:
        """A control step starts (WatchedArm.send_action, before the arm moves)."""
        self.started += 1

    def step_done(self, state: np.ndarray) -> None:
        """The arm finished a control step (WatchedArm.send_action): keep its state until the
        transcript says whether it was a move or a hold (:meth:`event`)."""
        self._raw_state = (time.time(), tuple(float(v) for v in state))
        self.step_times.append(self._raw_state[0])

    def event(self, event: Any) -> None:
        """A transcript event (agent.transcript.TranscriptEvent) as it is written."""
        if event.kind == "action":
            if self._raw_state is not None:
                self._steps += 1
                self.set_state("held" if event.text == "hold" else "moving")
            return
        if event.kind in PAGE_EVENTS:
            message = {"type": "event", "kind": event.kind, "text": event.text, "data": event.data, "seq": event.seq}
            self.post(message, sticky=event.kind if event.kind in STICKY_EVENTS else None)

    def set_state(self, status: str, state: Optional[np.ndarray] = None) -> None:
        """Publish the arm's state with ``status`` (``state``: a fresh reading, else the last one)."""
        if state is not None:
            self._raw_state = (time.time(), tuple(float(v) for v in state))
        self.status = status
        if self._raw_state is None:
            return
        t, values = self._raw_state
        self.latest_state = ArmState(t=t, step=self._steps, state=values, status=status)
        self._wake_all()

    def frame(self, rgb: np.ndarray) -> None:
        """A camera frame the agent rendered anyway (the policy's or perception's observation);
        kept by reference (each observation is a new array), encoded only when a page asks."""
        self._frames += 1
        self.latest_frame = Frame(seq=self._frames, t=time.time(), rgb=rgb)
        self._wake_all()

    @property
    def last_frame_t(self) -> float:
        return self.latest_frame.t if self.latest_frame is not None else 0.0

    @property
    def steps(self) -> int:
        return self._steps

    def _wake_all(self) -> None:
        with self._lock:
            subs = list(self._subscribers)
        for sub in subs:
            if not sub.pending:
                sub.pending = True
                sub.loop.call_soon_threadsafe(sub.wake.set)

    @staticmethod
    def _deliver(sub: Subscriber, message: dict[str, Any]) -> None:
        sub.messages.append(message)
        sub.wake.set()
