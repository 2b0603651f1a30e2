"""The policy as openpi shapes one: ``infer(obs) -> {"actions", "reasoning", ...}``, and an
action-chunk broker that hands out one action at a time.

:class:`VLAPolicy` is input transforms -> network -> output transforms
(``policy/inference/transforms.py``, run by ``VLARuntime.predict_chunk``), with the runtime rules
switched on in its settings (``policy/inference/rules.py``). :class:`ActionChunkBroker` wraps any
object with ``infer`` (openpi's ``ActionChunkBroker``, LeRobot's ``select_action`` queue): it
calls the wrapped policy only when the last chunk's first ``action_horizon`` actions are used up,
or the words changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np

if TYPE_CHECKING:
    from policy.inference.runtime import VLARuntime

#: Observation keys of openpi's wire format and their names in this project's sim observations.
IMAGE_KEYS = ("observation/image", "rgb")
STATE_KEYS = ("observation/state", "state")


def _first(obs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in obs:
            return obs[key]
    raise KeyError(f"observation has none of {keys}")


class VLAPolicy:
    """``infer(obs)`` over a ``VLARuntime``.

    ``obs``: the camera frame (``observation/image`` or ``rgb``, (H, W, 3) uint8), the proprio
    state (``observation/state`` or ``state``), ``prompt`` (the instruction) and optionally
    ``dialogue`` (question/answer pairs). Returns ``actions`` (C, 7) in the arm's units,
    ``reasoning`` (the parsed chain of thought the actions were read from), ``reasoning_text``,
    ``target`` (the TARGET the network itself wrote), ``confidence`` and ``reasoned`` (whether
    this call wrote new reasoning or reused the last).
    """

    def __init__(self, runtime: "VLARuntime") -> None:
        self.runtime = runtime

    @classmethod
    def from_loaded(cls, policy: Any, settings: Any = None, device: str = "cpu") -> "VLAPolicy":
        from policy.inference.runtime import VLARuntime
        from policy.inference.runtime_settings import RuntimeSettings

        return cls(VLARuntime(policy, settings or RuntimeSettings(), device=device))

    @property
    def action_horizon(self) -> int:
        """Actions of each chunk meant to be executed before the next call."""
        return self.runtime.execute_steps

    def infer(self, obs: dict[str, Any]) -> dict[str, Any]:
        view = {"rgb": _first(obs, IMAGE_KEYS), "state": _first(obs, STATE_KEYS)}
        chunk = self.runtime.predict_chunk(view, str(obs["prompt"]), list(obs.get("dialogue", ())))
        return {"actions": chunk.actions, "reasoning": chunk.reasoning, "reasoning_text": chunk.reasoning_text,
                "target": chunk.written_target, "confidence": chunk.confidence, "reasoned": chunk.reasoned}

    def reset(self) -> None:
        self.runtime.reset()


class ActionChunkBroker:
    """One action per ``infer``: ``{"actions": (action_dim,), ...the chunk's other fields}``."""

    def __init__(self, policy: Any, action_horizon: int) -> None:
        if action_horizon < 1:
            raise ValueError("action_horizon must be at least 1")
        self.policy = policy
        self.action_horizon = action_horizon
        self._queue: list[np.ndarray] = []
        self._last: dict[str, Any] = {}
        self._words: Optional[tuple[str, tuple]] = None

    def infer(self, obs: dict[str, Any]) -> dict[str, Any]:
        words = (str(obs.get("prompt")), tuple(tuple(turn) for turn in obs.get("dialogue", ())))
        if words != self._words:  # new words: the queued actions were for the old ones
            self._queue.clear()
            self._words = words
        if not self._queue:
            self._last = self.policy.infer(obs)
            self._queue.extend(self._last["actions"][: self.action_horizon])
        return {**self._last, "actions": self._queue.pop(0)}

    def clear(self) -> None:
        """Drop the queued actions: the next ``infer`` calls the policy."""
        self._queue.clear()

    def reset(self) -> None:
        self.clear()
        self._words = None
        self.policy.reset()
