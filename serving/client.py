"""Robot-side client: numpy, msgpack and websockets only (no torch, no model code).

``PolicyClient.infer(request) -> reply`` is openpi's ``WebsocketClientPolicy.infer``: it sends
one msgpack map and waits for one reply, at most ``timeout_s``. A text frame from the server
(a refused request) raises :class:`PolicyServerError` with the server's one-line reason; a lost
or unreachable server raises :class:`PolicyServerDown`. The next call after a loss reconnects,
but not before the backoff since the last failed try has passed (``backoff_s`` doubling up to
``max_backoff_s``), so a down server costs a robot loop at most one ``connect_timeout_s`` per try.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from serving.codec import packb, unpackb


class PolicyServerDown(ConnectionError):
    """The policy server cannot be reached (refused, closed, timed out)."""


class PolicyServerError(RuntimeError):
    """The server answered a request with an error line instead of actions."""


class PolicyClient:
    """One websocket to a ``main.py serve`` (or openpi) policy server."""

    def __init__(self, uri: str, *, api_key: Optional[str] = None, timeout_s: float = 10.0,
                 connect_timeout_s: float = 3.0, backoff_s: float = 0.1, max_backoff_s: float = 2.0,
                 max_frame_bytes: int = 16 * 1024 * 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self.uri = uri
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_frame_bytes = max_frame_bytes
        self.clock = clock
        self._ws: Any = None
        self._metadata: Optional[dict[str, Any]] = None
        self._next_try = 0.0
        self._delay = backoff_s
        #: Connections opened so far (1 + reconnects).
        self.connections = 0

    @property
    def metadata(self) -> dict[str, Any]:
        """The server's metadata map (connects first if needed)."""
        if self._metadata is None:
            self.connect()
        assert self._metadata is not None
        return self._metadata

    @property
    def connected(self) -> bool:
        return self._ws is not None

    def retry_in(self) -> float:
        """Seconds until the next connection try is allowed (0 when connected or due)."""
        return 0.0 if self._ws is not None else max(0.0, self._next_try - self.clock())

    def connect(self) -> None:
        """Open the socket and read the metadata frame; PolicyServerDown on failure (or while backing off)."""
        from websockets.exceptions import InvalidStatus, WebSocketException
        from websockets.sync.client import connect

        if self._ws is not None:
            return
        wait = self._next_try - self.clock()
        if wait > 0:
            raise PolicyServerDown(f"policy server {self.uri} unreachable; next try in {wait:.1f} s")
        headers = {"Authorization": f"Api-Key {self.api_key}"} if self.api_key else None
        try:
            ws = connect(self.uri, additional_headers=headers, open_timeout=self.connect_timeout_s,
                         max_size=self.max_frame_bytes, compression=None, proxy=None)
            metadata = unpackb(ws.recv(timeout=self.connect_timeout_s))
        except InvalidStatus as exc:
            self._failed()
            status = exc.response.status_code
            if status in (401, 403):
                raise PolicyServerError(f"policy server {self.uri} refused the API key (HTTP {status})") from exc
            raise PolicyServerDown(f"policy server {self.uri} answered HTTP {status}") from exc
        except (OSError, TimeoutError, WebSocketException, ValueError) as exc:
            self._failed()
            raise PolicyServerDown(f"policy server {self.uri} unreachable ({type(exc).__name__}: {exc})") from exc
        self._ws, self._metadata = ws, metadata
        self._delay = self.backoff_s
        self.connections += 1

    def _failed(self) -> None:
        self._next_try = self.clock() + self._delay
        self._delay = min(self._delay * 2.0, self.max_backoff_s)

    def infer(self, request: dict[str, Any]) -> dict[str, Any]:
        """One reply map for one request map (see module docstring for the errors)."""
        from websockets.exceptions import WebSocketException

        self.connect()
        try:
            self._ws.send(packb(request))
            reply = self._ws.recv(timeout=self.timeout_s)
        except (OSError, TimeoutError, WebSocketException) as exc:
            self.close()
            self._failed()
            raise PolicyServerDown(f"lost the policy server {self.uri} ({type(exc).__name__})") from exc
        if isinstance(reply, str):
            raise PolicyServerError(reply)
        return unpackb(reply)

    def close(self) -> None:
        if self._ws is not None:
            try:
                self._ws.close()
            except Exception:  # closing a dead socket: nothing left to do
                pass
        self._ws = None
