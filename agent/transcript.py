"""Per-session JSONL transcript: one event per line, appended as it happens.

Every line is ``{"session": id, "seq": n, "kind": ..., "text": ..., "data": {...}}``. Kinds:
``utterance`` (the person), ``say`` (the robot), ``question``, ``answer``, ``perception``,
``grounding``, ``decision``, ``reasoning`` (the policy's chain of thought), ``action`` (one per
control step: what was actually sent), ``interjection``, ``consistency`` (a language-vision doubt and what was made of it),
``self_check`` (the policy's chain-of-thought TARGET against the grounding before a motion's
first chunk, and what was done about it), ``own_check`` (the robot's own look at the result of a
motion: done or missed, and why), ``plan`` (the steps of a multi-step request, as said),
``plan_step`` (a step starts) and ``outcome``. The file is opened in
append mode so a session resumed after a kill continues the same transcript.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Literal, Optional

from pydantic import BaseModel, Field

EventKind = Literal[
    "utterance",
    "say",
    "question",
    "answer",
    "perception",
    "grounding",
    "decision",
    "reasoning",
    "action",
    "interjection",
    "consistency",
    "self_check",
    "own_check",
    "outcome",
    "plan",
    "plan_step",
]


class TranscriptEvent(BaseModel):
    """One transcript line."""

    session: str
    seq: int
    kind: EventKind
    text: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class TranscriptWriter:
    """Appends events to ``path`` (JSONL); with ``path=None`` keeps them in memory only.

    ``on_event`` (optional) sees every event as it is written (a console UI prints them).
    """

    def __init__(self, session_id: str, path: Optional[str | Path] = None,
                 on_event: Optional[Callable[[TranscriptEvent], None]] = None) -> None:
        self.session_id = session_id
        self.path = Path(path) if path is not None else None
        self.on_event = on_event
        self.events: list[TranscriptEvent] = []
        self._seq = self._count_existing()

    def _count_existing(self) -> int:
        # A resumed session keeps numbering where the killed process stopped. A kill in the
        # middle of a write leaves a torn last line: it is cut off, so every line stays JSON.
        if self.path is None or not self.path.exists():
            return 0
        data = self.path.read_bytes()
        whole = data.rfind(b"\n") + 1
        if whole < len(data):
            with self.path.open("r+b") as handle:
                handle.truncate(whole)
        return data[:whole].count(b"\n")

    def write(self, kind: EventKind, text: str = "", /, **data: Any) -> TranscriptEvent:
        event = TranscriptEvent(session=self.session_id, seq=self._seq, kind=kind, text=text, data=_plain(data))
        self._seq += 1
        self.events.append(event)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as handle:
                handle.write(event.model_dump_json() + "\n")
        if self.on_event is not None:
            self.on_event(event)
        return event

    def of_kind(self, kind: EventKind) -> list[TranscriptEvent]:
        """Events of one kind written by this writer (this process)."""
        return [e for e in self.events if e.kind == kind]


def read_transcript(path: str | Path) -> list[TranscriptEvent]:
    """Load every event of a transcript file, in order."""
    with Path(path).open() as handle:
        return [TranscriptEvent.model_validate_json(line) for line in handle if line.strip()]


def _plain(value: Any) -> Any:
    """Make numpy arrays/scalars and pydantic models JSON-friendly (lists, floats)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    if isinstance(value, float):
        return round(value, 5)
    return value
