"""The console's local server: the static page over HTTP GET and the live channel on ``/ws``,
one port, websockets only (no other web framework).

- Binds 127.0.0.1 unless told otherwise; any other host needs the access token printed at
  start, on every request (``?token=`` once, then an HttpOnly same-site cookie).
- ``/ws`` refuses a handshake whose Origin is not this page, so another site open in the same
  browser cannot drive the robot through localhost.
- Text frames are JSON (``console.messages``); a binary frame is push-to-talk audio (WAV), sent
  to the session's whisper transcriber.
"""

from __future__ import annotations

import asyncio
import hmac
import http
import json
import threading
from pathlib import Path
from typing import Any, Optional
from urllib.parse import parse_qs, urlsplit

STATIC = Path(__file__).resolve().parent / "static"
#: file name -> content type of the page's assets (nothing else is served).
ASSETS = {"index.html": "text/html; charset=utf-8", "console.js": "text/javascript; charset=utf-8",
          "console.css": "text/css; charset=utf-8"}
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
COOKIE = "console_token"
#: Largest frame accepted from the page: 30 s of 16 kHz 16-bit mono WAV, with room.
MAX_FRAME_BYTES = 1_200_000
CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self' ws: wss:; "
       "style-src 'self'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'")


def needs_token(host: str) -> bool:
    return host not in LOOPBACK


class ConsoleServer:
    """Serves ``app`` (console.app.ConsoleApp) on ``host:port`` (0: any free port)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 8080, token: Optional[str] = None) -> None:
        if needs_token(host) and not token:
            raise ValueError(f"--host {host}: a host other than loopback needs an access token")
        self.app = app
        self.host = host
        self.port = port
        self.token = token
        self._server: Any = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def bound_port(self) -> int:
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = f"?token={self.token}" if self.token else ""
        return f"http://{host}:{self.bound_port}/{query}"

    async def start(self) -> None:
        from websockets.asyncio.server import serve

        self._loop = asyncio.get_running_loop()
        self._server = await serve(self._handle, self.host, self.port, process_request=self._process_request,
                                   max_size=MAX_FRAME_BYTES, compression=None)

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        await self._server.serve_forever()

    def start_in_thread(self) -> "ConsoleServer":
        """Run on a daemon thread with its own event loop (tests, benchmarks); returns once bound."""
        ready = threading.Event()

        def main() -> None:
            async def go() -> None:
                await self.start()
                ready.set()
                try:
                    await self._server.serve_forever()
                except asyncio.CancelledError:
                    pass

            asyncio.run(go())

        self._thread = threading.Thread(target=main, name="console-server", daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("the console server did not start within 30 s")
        return self

    def stop(self) -> None:
        if self._server is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        if self._thread is not None:
            self._thread.join(timeout=10)

    # ------------------------------------------------------------------ HTTP
    def _authorised(self, request: Any) -> tuple[bool, bool]:
        """(allowed, token came in the query: set the cookie)."""
        if self.token is None:
            return True, False
        query = parse_qs(urlsplit(request.path).query).get("token", [""])[0]
        if query and hmac.compare_digest(query.encode(), self.token.encode()):
            return True, True
        cookies = request.headers.get("Cookie", "")
        for part in cookies.split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE and hmac.compare_digest(value.encode(), self.token.encode()):
                return True, False
        return False, False

    def _process_request(self, connection: Any, request: Any) -> Any:
        from websockets.datastructures import Headers
        from websockets.http11 import Response

        allowed, set_cookie = self._authorised(request)
        if not allowed:
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, "open the URL with the token printed at start\n")
        path = urlsplit(request.path).path
        if path == "/ws":
            origin = request.headers.get("Origin")
            if origin is not None and urlsplit(origin).netloc != request.headers.get("Host", ""):
                return connection.respond(http.HTTPStatus.FORBIDDEN, "websocket from another origin refused\n")
            return None
        name = "index.html" if path == "/" else path.lstrip("/")
        if name not in ASSETS:
            return connection.respond(http.HTTPStatus.NOT_FOUND, "not found\n")
        body = (STATIC / name).read_bytes()
        headers = Headers([("Content-Type", ASSETS[name]), ("Content-Length", str(len(body))),
                           ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
                           ("Content-Security-Policy", CSP), ("Referrer-Policy", "no-referrer")])
        if set_cookie:
            headers["Set-Cookie"] = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
        return Response(200, "OK", headers, body)

    # ------------------------------------------------------------------ websocket
    async def _handle(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        loop = asyncio.get_running_loop()
        sub = self.app.feed.subscribe(loop)
        sender = asyncio.create_task(self._send_loop(ws, sub))
        try:
            async for frame in ws:
                if isinstance(frame, bytes):
                    reply = await loop.run_in_executor(None, self.app.hear, frame)
                else:
                    reply = self.app.handle_text(frame)
                if reply is not None:
                    await ws.send(json.dumps(reply))
        except ConnectionClosed:
            pass
        finally:
            sender.cancel()
            self.app.feed.unsubscribe(sub)

    async def _send_loop(self, ws: Any, sub: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            while True:
                for text in await sub.next_messages():
                    await ws.send(text)
        except ConnectionClosed:
            pass
