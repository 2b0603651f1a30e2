"""RemoteRuntime: the policy runtime behind ``main.py serve``, seen through a websocket.

It stands in for ``policy.inference.runtime.VLARuntime`` inside :class:`agent.vla_executor.VLAExecutor`
(same ``reset`` / ``steer`` / ``predict_chunk`` / ``settings`` / ``execute_steps`` /
``config.geometry_camera``), so the agent's loop, steering and motion endings are the in-process
ones; only the network call moves to the server. The robot side imports no torch: the client
is ``serving.client`` (numpy, msgpack, websockets) and the reasoning is parsed here from its text.

Like openpi's ``ActionChunkBroker`` every reply is a whole chunk the executor queues and plays
out (``execute_steps`` of it) before it asks again. Each call waits at most the client's
``timeout_s``. While the server cannot be reached the arm HOLDS: the chunk is one zero-motion
action with the gripper as it was (what it holds stays held), and the output carries a
``notice`` the agent says once ("I lost the policy server ..."); the next tries come after the
client's backoff (waited here, so a robot loop is paced by wall-clock, not spun), and the first
reply after an outage says it is back. The first request on a new connection carries the
motion's steering again: the server behind it (restarted, or another replica behind a load
balancer) may not hold this session. After ``give_up_s`` of outage the motion ends
(``gave_up``); the agent's check afterwards reports what was achieved.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

from common.proprio import Proprio

from policy.model.cot_format import parse_reasoning
from policy.model.geometry import CameraCalibration
from policy.inference.rules import RuleSet
from policy.inference.runtime_settings import RuntimeSettings
from policy.types import ReasonedObject, Reasoning
from serving.client import PolicyClient, PolicyServerDown

SERVER_LOST = "I lost the connection to the policy server, so I'm holding still until it's back."
SERVER_BACK = "The policy server is back; going on."
SERVER_GONE = "The policy server has not come back, so I stopped here."


@dataclass
class RemoteChunk:
    """One reply: what ``VLARuntime.predict_chunk``'s ChunkResult holds, plus the outage state."""

    actions: np.ndarray  # (C, 7) unnormalised; (1, 7) zero-motion hold while the server is down
    reasoning_text: str = ""
    reasoning: Reasoning = field(default_factory=Reasoning)
    confidence: float = 0.0
    written_target: Optional[ReasonedObject] = None
    # True: the server was not reached and this is a hold, not the policy's chunk.
    holding: bool = False
    # True: the outage outlasted give_up_s; the motion should end.
    gave_up: bool = False
    # Something the person should be told now (lost / back / gave up), else None.
    notice: Optional[str] = None
    # True when the server wrote new reasoning for this chunk (False: reused, or a hold).
    reasoned: bool = False


@dataclass(frozen=True)
class _ServedConfig:
    geometry_camera: Optional[CameraCalibration]
    chunk_size: int
    action_dim: int
    state_dim: int
    image_size: int


class RemoteRuntime:
    """``VLARuntime``'s interface over a :class:`serving.client.PolicyClient` (module docstring)."""

    def __init__(self, client: PolicyClient, *, give_up_s: float = 30.0, session_id: Optional[str] = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.give_up_s = give_up_s
        self.session_id = session_id or uuid.uuid4().hex
        self.clock, self.sleep = clock, sleep
        #: Only the ``side_words`` rule is read by the executor; the server runs the steered rules.
        self.settings = RuntimeSettings(rules=RuleSet.all().steered())
        self._config: Optional[_ServedConfig] = None
        self._execute_steps: Optional[int] = None
        self._reset = True
        self._steer: Optional[dict[str, Any]] = None
        # The motion's steering, sent again on a new connection: the server behind it (a restart,
        # another replica behind a load balancer) may not hold this session.
        self._motion_steer: Optional[dict[str, Any]] = None
        self._delivered_on = 0  # client.connections when the last request was answered
        self._down_since: Optional[float] = None
        self._told_down = False
        #: The server session's runtime counters (``VLARuntime.calls``), as of the last reply.
        self.calls: dict[str, int] = {"reason": 0, "reuse": 0, "phase_gated": 0, "renamed": 0, "retreat": 0}

    @classmethod
    def connect(cls, uri: str, *, api_key: Optional[str] = None, **kwargs: Any) -> "RemoteRuntime":
        return cls(PolicyClient(uri, api_key=api_key), **kwargs)

    def _read_metadata(self) -> None:
        meta = self.client.metadata  # connects (PolicyServerDown when it cannot)
        camera = meta.get("geometry_camera")
        self._config = _ServedConfig(CameraCalibration.from_dict(camera) if camera else None, int(meta["chunk"]),
                                     int(meta["action_dim"]), int(meta["state_dim"]), int(meta["image_size"]))
        self._execute_steps = int(meta.get("execute_steps") or meta["chunk"])

    @property
    def config(self) -> Optional[_ServedConfig]:
        """The served policy's shapes and camera; None while the server has never been reached
        (the executor then steers with the observation's camera model)."""
        if self._config is None:
            try:
                self._read_metadata()
            except PolicyServerDown:
                return None
        return self._config

    def require_config(self) -> _ServedConfig:
        """The served policy's shapes; PolicyServerDown / PolicyServerError when it cannot be read."""
        if self._config is None:
            self._read_metadata()
        assert self._config is not None
        return self._config

    @property
    def execute_steps(self) -> int:
        if self._execute_steps is None:
            self._read_metadata()
        assert self._execute_steps is not None
        return self._execute_steps

    def reset(self) -> None:
        """A new motion: the server forgets this session's reasoning and steering at the next call."""
        self._reset = True
        self._steer = self._motion_steer = None

    def steer(self, target: Any, place: Any = None, *, snap_iou: Optional[float] = None, snap_place: bool = True) -> None:
        """Sent with the next call (see ``VLARuntime.steer``)."""
        self._steer = {"target": None if target is None else [float(v) for v in target],
                       "place": None if place is None else [float(v) for v in place],
                       "snap_iou": snap_iou, "snap_place": bool(snap_place)}
        self._motion_steer = self._steer

    def predict_chunk(self, obs: dict[str, Any], instruction: str, dialogue: Sequence[Any] = ()) -> RemoteChunk:
        """The server's chunk for this observation, or a hold while it cannot be reached."""
        state = np.asarray(obs["state"], dtype=np.float32)
        request: dict[str, Any] = {"observation/image": np.ascontiguousarray(obs["rgb"], dtype=np.uint8),
                                   "observation/state": state, "prompt": instruction,
                                   "dialogue": [[str(q), str(a)] for q, a in dialogue],
                                   "session_id": self.session_id, "reset": self._reset,
                                   "side_words": _viewpoint(self.settings.rules)}
        try:
            if self._config is None:
                self._read_metadata()
            self.client.connect()
            steer = self._steer if self.client.connections == self._delivered_on else self._motion_steer
            if steer is not None:
                request["steer"] = steer
            reply = self.client.infer(request)
        except PolicyServerDown:
            return self._hold(state)
        self._delivered_on = self.client.connections
        # Delivered: the reset and steering are now the server's (its session keeps them).
        self._reset, self._steer = False, None
        notice = SERVER_BACK if self._told_down else None
        self._down_since, self._told_down = None, False
        text = str(reply.get("reasoning", ""))
        written = reply.get("written_target")
        self.calls.update({k: int(v) for k, v in (reply.get("calls") or {}).items() if k in self.calls})
        return RemoteChunk(np.asarray(reply["actions"], dtype=np.float32), text, parse_reasoning(text),
                           float(reply.get("confidence", 0.0)),
                           ReasonedObject(name=written["name"], box=tuple(written["box"])) if written else None,
                           notice=notice, reasoned=bool(reply.get("reasoned", False)))

    def _hold(self, state: np.ndarray) -> RemoteChunk:
        """Zero motion, the gripper as last commanded, after the client's backoff."""
        now = self.clock()
        if self._down_since is None:
            self._down_since = now
        hold = np.zeros((1, 7), dtype=np.float32)
        hold[0, 6] = 1.0 if Proprio.from_array(state).closed else 0.0
        if now - self._down_since >= self.give_up_s:
            return RemoteChunk(hold[:0], holding=True, gave_up=True, notice=SERVER_GONE)
        notice = None if self._told_down else SERVER_LOST
        self._told_down = True
        wait = self.client.retry_in()
        if wait > 0:  # pace the hold by the reconnect backoff, never past the give-up time
            self.sleep(min(wait, max(0.0, self._down_since + self.give_up_s - now)))
        return RemoteChunk(hold, holding=True, notice=notice)


def _viewpoint(rules: RuleSet) -> Optional[str]:
    """Whose left/right the ``side_words`` rule reads (None when it is off)."""
    side = rules.get("side_words")
    return side.viewpoint if side is not None else None
