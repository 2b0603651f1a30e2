"""The `Arm` interface: what the agent drives, in simulation or on a real robot.

Modelled on LeRobot's ``Robot``: features are known before ``connect()``; ``send_action``
clips to the safety envelope and returns what was actually sent. Episodes (reset, scene
set-up) belong to the environment layer, not here. Backends register themselves in
``ARM_REGISTRY`` and are built by name with :func:`make_arm` (no if/elif over type names).

Observation dict (every backend):
    "rgb":          uint8   (H, W, 3)  front camera, looking at the robot from the person's side
    "depth":        float32 (H, W)     metres along the optical axis
    "segmentation": int32   (H, W)     instance ids (-1 = background/table/robot); sim only,
                                       a real arm leaves it out and perception must segment
    "camera":       CameraModel        intrinsics + extrinsics for deprojection
    "state":        float32 (8,)       ee xyz (m, base frame), ee rpy (rad), gripper opening 0..1,
                                       last gripper command 0..1 (PyBullet: rpy is relative to
                                       pointing straight down, so a vertical gripper is (0,0,yaw))
Action: float32 (7,) = delta xyz (m), delta rpy (rad), gripper command (0 = open, 1 = closed).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable

import numpy as np

ACTION_DIM = 7
STATE_DIM = 8


class Arm(ABC):
    """A robot arm with a camera. Subclasses implement one backend each."""

    name: str = "abstract"

    @property
    @abstractmethod
    def observation_features(self) -> dict[str, tuple[tuple[int, ...], str]]:
        """Key -> (shape, dtype) of :meth:`get_observation`; valid before connect()."""

    @property
    def action_features(self) -> dict[str, tuple[tuple[int, ...], str]]:
        """Key -> (shape, dtype) of the action; valid before connect()."""
        return {"action": ((ACTION_DIM,), "float32")}

    @abstractmethod
    def connect(self) -> None: ...

    @abstractmethod
    def disconnect(self) -> None: ...

    @property
    @abstractmethod
    def is_connected(self) -> bool: ...

    @abstractmethod
    def get_observation(self, detail: bool = False) -> dict[str, Any]:
        """Camera images and proprio state. ``detail``: the frame perception looks at, from the
        same camera at a higher resolution when the backend has one (a real camera's full frame;
        the policy's frame is downscaled); the same frame otherwise."""

    @abstractmethod
    def send_action(self, action: np.ndarray) -> np.ndarray:
        """Clip ``action`` to the safety envelope, execute one control step, return what was sent."""


ARM_REGISTRY: dict[str, Callable[..., Arm]] = {}
#: Backend name -> module whose import registers it, so ``make_arm`` works without the caller
#: importing the backend first (the module itself imports its heavy SDK only on connect()).
BACKEND_MODULES: dict[str, str] = {"pybullet": "sim.pybullet_arm"}


def register_arm(name: str) -> Callable[[Callable[..., Arm]], Callable[..., Arm]]:
    def wrap(factory: Callable[..., Arm]) -> Callable[..., Arm]:
        ARM_REGISTRY[name] = factory
        return factory

    return wrap


def make_arm(name: str, **kwargs: Any) -> Arm:
    if name not in ARM_REGISTRY and name in BACKEND_MODULES:
        import importlib

        importlib.import_module(BACKEND_MODULES[name])
    if name not in ARM_REGISTRY:
        raise KeyError(f"unknown arm backend {name!r}; registered: {sorted(ARM_REGISTRY)}")
    return ARM_REGISTRY[name](**kwargs)
