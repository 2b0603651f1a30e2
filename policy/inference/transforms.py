"""Input and output transforms around the network, as openpi composes a policy.

Inputs: the camera frame to the image tensor the vision tower reads (:class:`ImageInput`), the
proprio state normalised with the checkpoint's statistics (:class:`StateInput`), and the prompt as
the network reads it (:class:`PromptInput`, with the ``known_words`` rule). Outputs: the action
chunk back in the arm's units (:class:`UnnormalizeActions`) and the gripper sent open or closed
(:class:`ThresholdGripper`, the ``gripper_threshold`` rule). ``VLARuntime.predict_chunk`` runs
inputs -> network -> outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import torch

from policy.model.normalize import NormStats
from policy.model.pixels import image_to_tensor


@dataclass
class NetworkInputs:
    """What one network call reads."""

    prompt: str  # the full prompt (instruction | question -> answer turns)
    readable: str  # the prompt as the network reads it (PromptInput)
    pixels: torch.Tensor  # (1, 3, S, S) in [-1, 1]
    raw_state: np.ndarray  # (state_dim,) proprio in the arm's units
    state: torch.Tensor  # (1, state_dim) normalised


@dataclass(frozen=True)
class ImageInput:
    """(H, W, 3) uint8 frame -> (1, 3, size, size) tensor on ``device``."""

    size: int
    device: str = "cpu"

    def __call__(self, rgb: Any) -> torch.Tensor:
        return image_to_tensor(np.asarray(rgb), self.size)[None].to(self.device)


@dataclass(frozen=True)
class StateInput:
    """Proprio state -> (raw float32 array, (1, state_dim) normalised tensor on ``device``)."""

    stats: NormStats
    device: str = "cpu"

    def __call__(self, state: Any) -> tuple[np.ndarray, torch.Tensor]:
        raw = np.asarray(state, dtype=np.float32)
        return raw, torch.from_numpy(self.stats.normalize_state(raw))[None].to(self.device)


class PromptInput:
    """The prompt as the network reads it: with ``known_words`` on, without the clarifying turns
    that hold a word the tokenizer lacks (they would be read as <unk>). Remembers the last prompt
    so a tokenizer pass is made once per prompt, not at every chunk."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self._last: tuple[Optional[str], str] = (None, "")

    def __call__(self, prompt: str, known_words: bool) -> str:
        if not known_words:
            return prompt
        if self._last[0] != prompt:
            instruction, *turns = prompt.split(" | ")
            unk = self.tokenizer.unk_token_id
            known = [t for t in turns if unk not in self.tokenizer(t, add_special_tokens=False)["input_ids"]]
            self._last = (prompt, prompt if len(known) == len(turns) else " | ".join([instruction, *known]))
        return self._last[1]


@dataclass(frozen=True)
class UnnormalizeActions:
    """(1, C, action_dim) network output -> (C, action_dim) float array in the arm's units."""

    stats: NormStats

    def __call__(self, actions: torch.Tensor) -> np.ndarray:
        return self.stats.unnormalize_action(actions[0].float().cpu().numpy())


@dataclass(frozen=True)
class ThresholdGripper:
    """The gripper column sent fully closed (1) above ``threshold``, else fully open (0)."""

    threshold: float = 0.5

    def __call__(self, actions: np.ndarray) -> np.ndarray:
        actions[:, 6] = (actions[:, 6] > self.threshold).astype(actions.dtype)
        return actions
