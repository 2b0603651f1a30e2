"""An Arm wrapper through which the console watches the agent drive the arm.

Every ``send_action`` hands the state right after the control step to the feed; every camera
frame the agent renders anyway (the policy's observation each chunk, perception's look) goes to
the page too, so streaming costs no extra rendering while frames come often enough. Only when
the last frame is older than ``min_frame_interval_s`` and a page watches (a slow policy, a
long chunk) does a control step render one itself. Everything runs on the agent's thread, the
only one that touches the physics client.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from sim.arm import Arm

from console.feed import Feed


class WatchedArm(Arm):
    """``inner`` with its states and frames published to ``feed``; otherwise the same arm."""

    def __init__(self, inner: Arm, feed: Feed, min_frame_interval_s: float = 0.25) -> None:
        self.inner = inner
        self.feed = feed
        self.min_frame_interval_s = min_frame_interval_s
        self.name = inner.name

    @property
    def observation_features(self) -> dict[str, tuple[tuple[int, ...], str]]:
        return self.inner.observation_features

    @property
    def action_features(self) -> dict[str, tuple[tuple[int, ...], str]]:
        return self.inner.action_features

    def connect(self) -> None:
        self.inner.connect()

    def disconnect(self) -> None:
        self.inner.disconnect()

    @property
    def is_connected(self) -> bool:
        return self.inner.is_connected

    def get_observation(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        obs = self.inner.get_observation(*args, **kwargs)
        if "rgb" in obs:
            self.feed.frame(obs["rgb"])
        return obs

    def send_action(self, action: np.ndarray) -> np.ndarray:
        self.feed.begin_step()
        sent = self.inner.send_action(action)
        self.feed.step_done(self.state_now())
        if self.feed.watched and time.time() - self.feed.last_frame_t > self.min_frame_interval_s:
            self.get_observation()
        return sent

    def state_now(self) -> np.ndarray:
        """The proprio state (8,) without rendering."""
        get_state = getattr(self.inner, "get_state", None)
        if get_state is not None:
            return np.asarray(get_state(), dtype=np.float32)
        return np.asarray(self.inner.get_observation()["state"], dtype=np.float32)

    def show(self) -> None:
        """Render and publish the current view and state (between turns, on the agent thread)."""
        self.feed.set_state(self.feed.status, self.state_now())
        self.get_observation()

    def __getattr__(self, name: str) -> Any:  # backend extras (segmentation_labels, hold, ...)
        if name == "inner":  # not set yet (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)
