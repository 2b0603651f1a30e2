"""openpi-compatible websocket policy server with API keys, per-session state and batching.

Protocol (openpi's ``websocket_policy_server``): on connect the server sends one msgpack
metadata map; then each binary frame from the client is a msgpack request map and gets one
reply map ``{"actions": float32 [chunk, action_dim], "reasoning": str, "server_timing": {...}}``
(``serving/codec.py`` carries the arrays). Unlike openpi, a frame that cannot be read, a request
with wrong dims or a failed inference is answered with a ONE-line text frame and the connection
stays open (the client may send the next request); a frame over ``max_frame_bytes`` closes that
connection (1009). Other clients never notice.

- ``GET /healthz`` answers 200 without a key; with ``api_key`` set, a websocket handshake whose
  ``Authorization: Api-Key ...`` header differs (compared with ``hmac.compare_digest``) is
  refused with 401 before any frame.
- Inference never runs on the event loop: a batcher task takes up to ``max_batch`` queued
  requests, waiting at most ``batch_wait_ms`` after the first (never for more requests than
  there are open connections, so a lone client waits for nothing), and hands them to ONE worker
  thread together (``backend.infer_batch``; ``serving/policy_backend.py`` says how a batch runs).
"""

from __future__ import annotations

import asyncio
import hmac
import http
import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Optional

from serving.codec import CodecError, packb, unpackb
from serving.requests import PolicyRequest, parse_request


@dataclass(frozen=True)
class ServeConfig:
    """How the server listens and batches (``main.py serve`` flags)."""

    # Interface to bind: loopback by default; a routable address exposes the policy to the network.
    host: str = "127.0.0.1"
    # TCP port (0: any free port, see PolicyServer.port).
    port: int = 8000
    # Required "Authorization: Api-Key ..." value; None accepts every client.
    api_key: Optional[str] = None
    # Most requests handed to the worker thread together.
    max_batch: int = 8
    # How long (ms) the batcher waits for more requests after the first of a batch.
    batch_wait_ms: float = 2.0
    # Largest frame accepted (bytes): a 640x480 RGB frame is ~0.9 MB.
    max_frame_bytes: int = 4 * 1024 * 1024


@dataclass
class _Job:
    request: PolicyRequest
    future: asyncio.Future
    queued_at: float


class PolicyServer:
    """``await server.start()`` / ``await server.stop()``, or ``serve_forever()``."""

    def __init__(self, backend: Any, config: ServeConfig = ServeConfig()) -> None:
        if config.max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.backend = backend
        self.config = config
        self.metadata = backend.metadata()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policy-infer")
        self._queue: Optional[asyncio.Queue] = None
        self._server: Any = None
        self._batcher: Optional[asyncio.Task] = None
        self._connection_ids = itertools.count()
        self._open = 0  # connections open now: a batch never waits for more requests than that
        #: Sizes of the batches run so far (benchmarks and tests read it).
        self.batch_sizes: list[int] = []

    @property
    def port(self) -> int:
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        from websockets.asyncio.server import serve

        self._queue = asyncio.Queue()
        self._batcher = asyncio.create_task(self._run_batches())
        self._server = await serve(self._handle, self.config.host, self.config.port, compression=None,
                                   max_size=self.config.max_frame_bytes, process_request=self._process_request)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._batcher is not None:
            self._batcher.cancel()
        self._worker.shutdown(wait=False, cancel_futures=True)

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await self._server.serve_forever()
        finally:
            await self.stop()

    # -- handshake ---------------------------------------------------------------------------
    def _process_request(self, connection: Any, request: Any) -> Any:
        if request.path == "/healthz":
            return connection.respond(http.HTTPStatus.OK, "OK\n")
        if self.config.api_key is not None:
            given = request.headers.get("Authorization", "")
            expected = f"Api-Key {self.config.api_key}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return connection.respond(http.HTTPStatus.UNAUTHORIZED, "missing or wrong API key\n")
        return None

    # -- one connection ----------------------------------------------------------------------
    async def _handle(self, connection: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        default_session = f"connection-{next(self._connection_ids)}"
        self._open += 1
        try:
            await connection.send(packb(self.metadata))
            async for frame in connection:
                received = time.perf_counter()
                try:
                    if isinstance(frame, str):
                        raise ValueError("send msgpack binary frames, not text")
                    request = parse_request(unpackb(frame), int(self.metadata["state_dim"]), default_session)
                    reply = await self._infer(request)
                except (CodecError, ValueError) as exc:
                    await connection.send(f"bad request: {one_line(exc)}")
                    continue
                except Exception as exc:  # the policy failed on this request: say so, keep serving
                    await connection.send(f"inference failed: {one_line(exc)}")
                    continue
                reply["server_timing"]["total_ms"] = 1000.0 * (time.perf_counter() - received)
                await connection.send(packb(reply))
        except ConnectionClosed:
            pass
        finally:
            self._open -= 1

    async def _infer(self, request: PolicyRequest) -> dict[str, Any]:
        assert self._queue is not None
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Job(request, future, time.perf_counter()))
        result = await future
        if isinstance(result, Exception):
            raise result
        return result

    # -- batching ----------------------------------------------------------------------------
    async def _run_batches(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self._queue.get()]
            deadline = loop.time() + self.config.batch_wait_ms / 1000.0
            while len(jobs) < min(self.config.max_batch, max(self._open, 1)):
                if not self._queue.empty():
                    jobs.append(self._queue.get_nowait())
                    continue
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    jobs.append(await asyncio.wait_for(self._queue.get(), timeout))
                except asyncio.TimeoutError:
                    break
            started = time.perf_counter()
            self.batch_sizes.append(len(jobs))
            try:
                results = await loop.run_in_executor(self._worker, self.backend.infer_batch, [j.request for j in jobs])
            except Exception as exc:  # the worker itself failed: every job of the batch gets it
                results = [exc] * len(jobs)
            for job, result in zip(jobs, results):
                if isinstance(result, dict):
                    timing = result.setdefault("server_timing", {})
                    timing["queue_ms"] = 1000.0 * (started - job.queued_at)
                    timing["batch_size"] = len(jobs)
                if not job.future.done():
                    job.future.set_result(result)


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if text else type(exc).__name__


async def serve(backend: Any, config: ServeConfig) -> None:
    """Run a server until cancelled (Ctrl-C)."""
    await PolicyServer(backend, config).serve_forever()
