"""What one request holds, checked against the served policy's metadata before it is queued."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Steer:
    """The agent's grounded boxes (fractions of the image), written into every chain of thought."""

    # TARGET box (x0, y0, x1, y1); None leaves the policy's own.
    target: Optional[Box]
    # PLACE box; None leaves the policy's own.
    place: Optional[Box] = None
    # Snap each box to the policy's own listed box when their IoU reaches this (None: as given).
    snap_iou: Optional[float] = None
    # False: the PLACE box is a spot on the table, written as given.
    snap_place: bool = True


@dataclass
class PolicyRequest:
    """One observation for one session (``session_id`` keeps the reasoning-reuse cache)."""

    session_id: str
    # (H, W, 3) uint8 camera frame, any size: the server resizes to the policy's image_size.
    image: np.ndarray
    # (state_dim,) float32 proprio state.
    state: np.ndarray
    # The instruction the policy reads.
    prompt: str
    # Clarifying (question, answer) pairs folded into the prompt.
    dialogue: list[tuple[str, str]] = field(default_factory=list)
    # New boxes to steer with (forces fresh reasoning); None keeps the session's steering.
    steer: Optional[Steer] = None
    # Start a new motion: forget the session's queue, reasoning and steering first.
    reset: bool = False
    # Whose left/right the prompt's side words mean ("user" | "robot"); None keeps the setting.
    side_words: Optional[str] = None


def _box(value: Any, name: str) -> Optional[Box]:
    if value is None:
        return None
    box = np.asarray(value, dtype=np.float64).reshape(-1)
    if box.shape != (4,) or not np.all(np.isfinite(box)):
        raise ValueError(f"steer.{name} must be 4 finite numbers (x0, y0, x1, y1), got {value!r}")
    return tuple(float(v) for v in box)  # type: ignore[return-value]


def parse_request(msg: Any, state_dim: int, default_session: str) -> PolicyRequest:
    """A :class:`PolicyRequest` from a decoded frame; ValueError with a one-line reason otherwise."""
    if not isinstance(msg, dict):
        raise ValueError(f"a request is a map, got {type(msg).__name__}")
    for key in ("observation/image", "observation/state", "prompt"):
        if key not in msg:
            raise ValueError(f"request lacks {key!r}")
    image, state, prompt = msg["observation/image"], msg["observation/state"], msg["prompt"]
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 \
            or min(image.shape[:2]) < 1:
        raise ValueError(f"observation/image must be a uint8 HxWx3 array, got "
                         f"{getattr(image, 'dtype', type(image).__name__)} {getattr(image, 'shape', '')}")
    if not isinstance(state, np.ndarray) or state.shape != (state_dim,) or state.dtype.kind != "f":
        raise ValueError(f"observation/state must be float [{state_dim}], got "
                         f"{getattr(state, 'dtype', type(state).__name__)} {getattr(state, 'shape', '')}")
    if not np.all(np.isfinite(state)):
        raise ValueError("observation/state holds NaN or inf")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("prompt must be a non-empty string")
    dialogue = msg.get("dialogue") or []
    if not isinstance(dialogue, list) or not all(isinstance(t, (list, tuple)) and len(t) == 2 and all(isinstance(s, str) for s in t)
                                                 for t in dialogue):
        raise ValueError("dialogue must be a list of [question, answer] strings")
    steer = msg.get("steer")
    if steer is not None:
        if not isinstance(steer, dict):
            raise ValueError("steer must be a map {target, place, snap_iou, snap_place}")
        snap = steer.get("snap_iou")
        steer = Steer(_box(steer.get("target"), "target"), _box(steer.get("place"), "place"),
                      None if snap is None else float(snap), bool(steer.get("snap_place", True)))
    side = msg.get("side_words")
    if side not in (None, "user", "robot"):
        raise ValueError(f"side_words must be 'user' or 'robot', got {side!r}")
    session = msg.get("session_id", default_session)
    if not isinstance(session, str) or not 0 < len(session) <= 128:
        raise ValueError("session_id must be a string of 1-128 characters")
    return PolicyRequest(session, np.ascontiguousarray(image), state.astype(np.float32), prompt,
                         [tuple(t) for t in dialogue], steer, bool(msg.get("reset", False)), side)
