"""The page as the session's :class:`agent.commands.session.Channel`.

Everything the person does on the page arrives on one queue, in order: typed text, a clicked
candidate (turned into the words an answer understands: "number 2", "yes"), push-to-talk
transcripts, STOP, and a request to switch sessions. ``ask`` waits on that queue (the agent
is idle: nothing moves); the motion loop polls it every control step (``interjections``, the
``InterjectionSource`` protocol), so STOP or "no, the blue one" reaches the arm within one
control step, exactly as a line typed in the terminal does (``agent.stdin_listener``).
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Optional, Union

from console.feed import Feed

#: What STOP says to the agent (``agent.interjection`` reads it as kind "stop").
STOP_WORDS = "stop"


@dataclass(frozen=True)
class Said:
    """Words for the agent (typed, clicked or spoken)."""

    text: str
    t: float  # time.time() when the server received it
    stop: bool = False  # came from the STOP button / Space key


@dataclass(frozen=True)
class Switch:
    """Leave this session for another (``session_id``) or a new one (None), or end (``close``)."""

    session_id: Optional[str] = None
    close: bool = False


Item = Union[Said, Switch]


@dataclass(frozen=True)
class StopRecord:
    """One STOP: when it was clicked and reached the server, and the control steps around it."""

    t_received: float  # time.time() when the server had it
    started_at_receipt: int  # control steps begun when it arrived (one may be under way)
    t_page: Optional[float] = None  # the page's clock at the click (s), when it sent one
    t_held: Optional[float] = None  # when the hold step had run (the arm holding)
    started_at_hold: Optional[int] = None  # control steps begun once the hold step began (the hold included)

    @property
    def moves_after(self) -> Optional[int]:
        """Moving steps begun after STOP arrived (0: the next step to begin was the hold; a step
        already under way when it arrived finishes first)."""
        return None if self.started_at_hold is None else self.started_at_hold - self.started_at_receipt - 1


class PageChannel:
    """Channel for the page; ``interjections`` is itself (``poll``)."""

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.interjections = self
        self.live: Any = None  # agent.commands.session.LiveSession, set when a session opens
        self.arm: Any = None  # console.watched_arm.WatchedArm of that session
        self.switch: Optional[Switch] = None
        self.question: Any = None  # the agent.driver.Question awaiting an answer, if any
        self.stops: list[StopRecord] = []
        self._items: "queue.Queue[Item]" = queue.Queue()
        self._waiting = threading.Event()  # the agent thread is in ask(): nothing moves

    # ------------------------------------------------------------------ from the page (server thread)
    def put_text(self, text: str) -> None:
        text = " ".join(text.split())
        if text:
            self._items.put(Said(text, time.time()))

    def choose(self, number: int) -> Optional[str]:
        """The person clicked candidate ``number`` (1-based, as numbered on the picture); the
        words it becomes, or None when no question with that many candidates is pending."""
        question = self.question
        if question is None or not 1 <= number <= max(1, len(question.candidates)):
            return None
        words = "yes" if question.yes_no else f"number {number}"
        self._items.put(Said(words, time.time()))
        return words

    def stop(self, t_page: Optional[float] = None) -> bool:
        """STOP: True when the arm was busy (the stop goes to the control loop), False when idle."""
        if self._waiting.is_set():
            return False
        self.stops.append(StopRecord(time.time(), self.feed.started, t_page))
        self._items.put(Said(STOP_WORDS, time.time(), stop=True))
        return True

    def request_switch(self, switch: Switch) -> bool:
        """Go to another session (only while idle, so no motion is cut); end with ``close``."""
        if not (self._waiting.is_set() or switch.close):
            return False
        self.switch = switch
        self._items.put(switch)
        return True

    @property
    def idle(self) -> bool:
        return self._waiting.is_set()

    # ------------------------------------------------------------------ Channel (agent thread)
    def say(self, text: str) -> None:
        if text.startswith("  [robot ") or text.startswith("robot: "):
            return  # the page shows these from the transcript events themselves
        self.feed.post({"type": "note", "text": text})

    def ask(self, prompt: str) -> Optional[str]:
        self.question = self.live.session.pending() if (prompt and self.live is not None) else None
        if self.arm is not None:
            self.arm.show()
        self.feed.set_state("idle")
        self._waiting.set()  # before the page hears "asking": what it sends next finds the robot idle
        self.feed.post({"type": "asking", "prompt": prompt, "question": _question(self.question)}, sticky="turn")
        try:
            while True:
                item = self._items.get()
                if isinstance(item, Switch):
                    return None
                if item.stop:
                    continue  # a STOP queued as the motion ended: nothing moves now
                self.feed.post({"type": "busy", "text": item.text}, sticky="turn")
                return item.text
        finally:
            self._waiting.clear()
            self.question = None
            self.feed.set_state("busy")

    def poll(self, step: int) -> Optional[str]:
        """InterjectionSource: what the person said since the last control step (no waiting)."""
        try:
            item = self._items.get_nowait()
        except queue.Empty:
            return None
        if isinstance(item, Switch):
            self._items.put(item)
            return None
        return item.text

    def held(self) -> None:
        """The control loop sent a hold: close the latest open STOP record."""
        if self.stops and self.stops[-1].t_held is None:
            last = self.stops[-1]
            self.stops[-1] = StopRecord(last.t_received, last.started_at_receipt, last.t_page, time.time(),
                                        self.feed.started)


def _question(question: Any) -> Optional[dict[str, Any]]:
    """The pending question for the page: its text and candidates (boxes), in the order of the
    question's numbers."""
    if question is None:
        return None
    return {"text": question.text, "yes_no": question.yes_no, "about": question.about,
            "candidates": [{"number": n, "index": c.index, "name": c.describe(), "box": list(c.box)}
                           for n, c in enumerate(question.candidates, start=1)]}
