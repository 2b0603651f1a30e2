"""The served policy: one loaded checkpoint, one ``VLARuntime`` per session (its reasoning cache).

Every session's runtime shares the same model weights; what a session owns is the runtime's
memory (queued reasoning, steering, pointed boxes), which lives while the session keeps calling
and is dropped ``ttl_s`` after its last call (or, past ``max_sessions``, the least recently used).

``infer_batch`` runs a batch of requests as ONE batched pass through the model
(``serving/batched_inference.py``: the new chains of thought decoded in lockstep, every row's
actions read in one forward), in waves of distinct sessions (a session's calls are ordered). If
that pass fails, the wave's requests run again one by one, so only the request that fails gets
the error line.

Because every call runs in that one thread, the sessions' single calls also share one fixed-size
reasoning KV cache (``policy.inference.decode_cache.ReasoningCache``, used by the ``static`` and ``compiled`` decodes):
each reasoning call loads its own prefix into it, and a ``compiled`` step (the default on CUDA)
is compiled once for the server, not once per new session.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

import numpy as np

from serving.requests import PolicyRequest


@dataclass
class _Session:
    runtime: Any
    last_used: float


class SessionStore:
    """session_id -> runtime, dropped ``ttl_s`` after its last use (monotonic clock)."""

    def __init__(self, make_runtime: Callable[[], Any], *, ttl_s: float = 600.0, max_sessions: int = 256,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.make_runtime = make_runtime
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self.clock = clock
        self._sessions: "OrderedDict[str, _Session]" = OrderedDict()

    def get(self, session_id: str) -> Any:
        now = self.clock()
        for sid in [s for s, v in self._sessions.items() if now - v.last_used > self.ttl_s]:
            del self._sessions[sid]
        session = self._sessions.pop(session_id, None) or _Session(self.make_runtime(), now)
        session.last_used = now
        self._sessions[session_id] = session  # most recently used last
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)
        return session.runtime

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, session_id: str) -> bool:
        return session_id in self._sessions


class RuntimeBackend:
    """``metadata()`` and ``infer_batch(requests)`` over a loaded checkpoint (``policy.model.checkpoint``)."""

    name = "askvla-paligemma-vla"

    def __init__(self, policy: Any, *, device: str = "cpu", replan_every: int = 4, decode: str = "auto",
                 ttl_s: float = 600.0, max_sessions: int = 256) -> None:
        from policy.inference.rules import RuleSet
        from policy.inference.runtime import RuntimeSettings

        # The steered rules of agent.vla_executor.VLAExecutor.from_policy: the agent's boxes
        # replace the policy's, so renaming and holding lost boxes have nothing to decide.
        self.settings = RuntimeSettings(replan_every=replan_every, decode=decode, rules=RuleSet.all().steered())
        self.policy = policy
        self.device = device
        self.config = policy.config
        self._shared_cache: Any = None  # the sessions' one ReasoningCache (module docstring)
        self.sessions = SessionStore(self._new_runtime, ttl_s=ttl_s, max_sessions=max_sessions)
        self._execute_steps = self._new_runtime().execute_steps

    def _new_runtime(self) -> Any:
        from policy.inference.runtime import VLARuntime

        runtime = VLARuntime(self.policy, self.settings, self.device)
        runtime._reasoning_cache = self._shared_cache  # None until a first reasoning call made one
        return runtime

    def _share_cache(self, runtime: Any) -> None:
        cache = runtime._reasoning_cache
        if cache is not None and (self._shared_cache is None or cache.max_len > self._shared_cache.max_len):
            self._shared_cache = cache

    @classmethod
    def from_checkpoint(cls, folder: str, **kwargs: Any) -> "RuntimeBackend":
        from policy.model.checkpoint import load_checkpoint

        return cls(load_checkpoint(folder), **kwargs)

    def metadata(self) -> dict[str, Any]:
        cfg = self.config
        camera = cfg.geometry_camera.to_dict() if cfg.geometry_camera is not None else None
        return {"policy": self.name, "action_dim": int(cfg.action_dim), "chunk": int(cfg.chunk_size),
                "execute_steps": int(self._execute_steps), "state_dim": int(cfg.state_dim),
                "image_size": int(cfg.image_size), "writes_reasoning": True, "geometry_camera": camera,
                "batching": "fused"}

    def infer_batch(self, requests: list[PolicyRequest]) -> list[Any]:
        """One reply map (or the exception) per request, in order."""
        replies: list[Any] = [None] * len(requests)
        todo = list(range(len(requests)))
        while todo:  # waves: a session's second request of the batch waits for its first
            wave, seen = [], set()
            for i in todo:
                if requests[i].session_id not in seen:
                    wave.append(i)
                    seen.add(requests[i].session_id)
            todo = [i for i in todo if i not in wave]
            for i, reply in zip(wave, self._infer_wave([requests[i] for i in wave])):
                replies[i] = reply
        return replies

    def _infer_wave(self, requests: list[PolicyRequest]) -> list[Any]:
        from serving.batched_inference import predict_chunks

        replies: list[Any] = [None] * len(requests)
        ready: list[tuple[int, Any]] = []
        for i, request in enumerate(requests):
            try:
                ready.append((i, self._prepare(request)))
            except Exception as exc:  # this request's own error line
                replies[i] = exc
        if len(ready) == 1:
            replies[ready[0][0]] = self._infer_one(requests[ready[0][0]], prepared=True)
        elif ready:
            batch = [requests[i] for i, _ in ready]
            try:
                start = time.perf_counter()
                chunks = predict_chunks([rt for _, rt in ready], [{"rgb": r.image, "state": r.state} for r in batch],
                                        [r.prompt for r in batch], [r.dialogue for r in batch])
                infer_ms = 1000.0 * (time.perf_counter() - start)
                for (i, runtime), chunk in zip(ready, chunks):
                    replies[i] = self._reply(chunk, infer_ms, runtime)
            except Exception:  # one bad request must not cost the others their answer: run them alone
                for i, _ in ready:
                    replies[i] = self._infer_one(requests[i], prepared=True)
        return replies

    def _prepare(self, request: PolicyRequest) -> Any:
        """The request's session runtime, reset / re-steered as the request asks."""
        runtime = self.sessions.get(request.session_id)
        if request.reset:
            runtime.reset()
        if request.side_words is not None:
            runtime.settings = replace(runtime.settings, rules=runtime.settings.rules.seeing_from(request.side_words))
        if request.steer is not None:
            s = request.steer
            runtime.steer(s.target, s.place, snap_iou=s.snap_iou, snap_place=s.snap_place)
        if runtime._reasoning_cache is None:  # made before the first reasoning call of the server
            runtime._reasoning_cache = self._shared_cache
        return runtime

    @staticmethod
    def _reply(chunk: Any, infer_ms: float, runtime: Any) -> dict[str, Any]:
        written = chunk.written_target
        return {"actions": np.asarray(chunk.actions, dtype=np.float32), "reasoning": chunk.reasoning_text,
                "confidence": float(chunk.confidence), "reasoned": bool(chunk.reasoned),
                "written_target": None if written is None else {"name": written.name, "box": list(written.box)},
                "calls": dict(runtime.calls), "server_timing": {"infer_ms": infer_ms}}

    def _infer_one(self, request: PolicyRequest, prepared: bool = False) -> Any:
        try:
            runtime = self.sessions.get(request.session_id) if prepared else self._prepare(request)
            start = time.perf_counter()
            chunk = runtime.predict_chunk({"rgb": request.image, "state": request.state}, request.prompt,
                                          request.dialogue)
            self._share_cache(runtime)
            return self._reply(chunk, 1000.0 * (time.perf_counter() - start), runtime)
        except Exception as exc:  # one request's failure is its own reply; the batch goes on
            return exc
