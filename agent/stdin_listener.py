"""Typing while the arm moves: a background reader of the terminal's lines.

``input()`` blocks, so a text session could not hear "stop" during a motion. :class:`LineListener`
reads every line of a stream on a daemon thread into a queue; the session's prompts wait on
that queue (:meth:`LineListener.get`) and the agent's control loop polls it without blocking
(:meth:`LineListener.poll`, the ``InterjectionSource`` protocol), so a line typed mid-motion
reaches the arm within one control step. Used only when stdin is a terminal; piped input keeps
plain ``input()`` (tests, scripts).
"""

from __future__ import annotations

import queue
import threading
from typing import IO, Optional

#: Queue marker for the end of the stream (Ctrl-D / closed pipe).
_EOF = object()


class LineListener:
    """Reads ``stream`` line by line on a daemon thread (started at construction)."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: "queue.Queue[object]" = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._read, args=(stream,), name="stdin-listener", daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line.rstrip("\r\n"))
        self._lines.put(_EOF)

    def get(self, timeout: Optional[float] = None) -> Optional[str]:
        """The next line, waiting for it; None at the end of the stream (or after ``timeout`` s)."""
        if self._closed:
            return None
        try:
            item = self._lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is _EOF:
            self._closed = True
            return None
        return str(item)

    def poll(self, step: int) -> Optional[str]:
        """InterjectionSource: a line typed since the last call, without waiting (None if none)."""
        if self._closed:
            return None
        try:
            item = self._lines.get_nowait()
        except queue.Empty:
            return None
        if item is _EOF:
            self._lines.put(_EOF)  # leave the end for the next prompt to see
            return None
        return str(item).strip() or None
