"""Action and state normalisation statistics; they travel inside the checkpoint.

Actions and proprio state are z-scored per dimension with the training data's mean and std
(std floored so a constant dimension does not blow up). The network only ever sees normalised
values; :class:`NormStats` converts both ways and is saved as ``stats.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

STATS_FILE = "stats.json"
#: Smallest std used for scaling (units of the dimension: m, rad, or 0..1 gripper).
STD_FLOOR = 1e-3


class CheckpointError(RuntimeError):
    """A checkpoint folder is missing a part or its parts do not agree."""


class Stat(BaseModel):
    """Per-dimension mean and std of one quantity."""

    model_config = ConfigDict(frozen=True)

    mean: list[float]
    std: list[float]

    @model_validator(mode="after")
    def _same_length(self) -> "Stat":
        if len(self.mean) != len(self.std) or not self.mean:
            raise ValueError(f"mean ({len(self.mean)}) and std ({len(self.std)}) must be non-empty and equal length")
        if any(not np.isfinite(v) for v in self.mean + self.std) or min(self.std) <= 0:
            raise ValueError("statistics must be finite with positive std")
        return self

    @classmethod
    def fit(cls, values: np.ndarray) -> "Stat":
        """values (N, D) -> statistics over N."""
        arr = np.asarray(values, dtype=np.float64).reshape(-1, np.asarray(values).shape[-1])
        return cls(mean=arr.mean(0).tolist(), std=np.maximum(arr.std(0), STD_FLOOR).tolist())

    @property
    def dim(self) -> int:
        return len(self.mean)


class NormStats(BaseModel):
    """Statistics of actions (7) and state (8) the checkpoint was trained with."""

    model_config = ConfigDict(frozen=True)

    action: Stat
    state: Stat
    num_samples: int = Field(0, description="training rows the statistics came from")

    @classmethod
    def fit(cls, actions: np.ndarray, states: np.ndarray) -> "NormStats":
        """actions (N, ..., 7), states (N, 8)."""
        return cls(action=Stat.fit(actions), state=Stat.fit(states), num_samples=int(len(states)))

    def normalize_action(self, a: np.ndarray) -> np.ndarray:
        return ((np.asarray(a) - np.asarray(self.action.mean)) / np.asarray(self.action.std)).astype(np.float32)

    def unnormalize_action(self, a: np.ndarray) -> np.ndarray:
        return (np.asarray(a) * np.asarray(self.action.std) + np.asarray(self.action.mean)).astype(np.float32)

    def normalize_state(self, s: np.ndarray) -> np.ndarray:
        return ((np.asarray(s) - np.asarray(self.state.mean)) / np.asarray(self.state.std)).astype(np.float32)

    def check(self, action_dim: int, state_dim: int) -> None:
        """Raise CheckpointError unless the statistics fit the model's action and state widths."""
        if self.action.dim != action_dim or self.state.dim != state_dim:
            raise CheckpointError(
                f"normalisation statistics are for action dim {self.action.dim} / state dim "
                f"{self.state.dim}, but the model expects {action_dim} / {state_dim}"
            )

    def save(self, folder: Path) -> None:
        (Path(folder) / STATS_FILE).write_text(self.model_dump_json(indent=1))

    @classmethod
    def load(cls, folder: Path) -> "NormStats":
        path = Path(folder) / STATS_FILE
        if not path.exists():
            raise CheckpointError(
                f"{path} is missing: this checkpoint has no action/state normalisation statistics, "
                "so its actions cannot be converted back to metres/radians"
            )
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise CheckpointError(f"{path} is not valid normalisation statistics: {exc}") from exc
