"""VLAExecutor: the learned PaliGemma VLA policy behind the agent's Executor protocol.

Unlike ``ExpertExecutor`` it is NOT privileged: it sees only the camera image and the arm's
proprio state, plus the words. The agent hands it ``target.instruction``, a rewrite that names
only the chosen target ("put the red cube on the left in the green bowl"), so by default the
raw session dialogue is not added to the prompt (``use_dialogue=True`` folds question/answer
pairs in, the form the policy also saw in training).

With ``steer`` (default) the executor also hands the runtime the boxes of the grounded target
(and place) in the policy's camera frame: every chain of thought the policy writes gets its
TARGET/PLACE box replaced by the agent's grounding before the actions are read (ECoT's
reasoning intervention), snapped to the policy's own listed box of the same object when the two
overlap by at least ``snap_iou`` (the agent picks the object, the policy's list says where it is
in the box format it learned). ``PolicyOutput.target`` stays what the policy itself wrote, so the
agent's self-check still sees the policy's own opinion.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import numpy as np

from agent.self_check import SelfCheckSettings
from policy.types import PolicyOutput


class VLAExecutor:
    """reset(target) / select_action(obs, instruction, dialogue) -> chunk / done.

    Args:
        runtime: a ``policy.runtime.VLARuntime`` (see :meth:`from_checkpoint`).
        max_steps: actions after which the motion counts as finished (the agent verifies success).
        still_chunks: consecutive near-still chunks (< ``still_m`` of motion) that also end it.
    """

    privileged = False

    def __init__(self, runtime: Any, *, max_steps: int = 200, use_dialogue: bool = False,
                 still_chunks: int = 3, still_m: float = 0.004, steer: bool = True,
                 snap_iou: Optional[float] = SelfCheckSettings.min_iou) -> None:
        self.runtime = runtime
        #: The agent may overrule the policy's TARGET with its grounding (self-check).
        self.steerable = steer
        #: Steering boxes snap to the policy's own listed box of the object (None: written as given).
        self.snap_iou = snap_iou
        self._target: Any = None
        self.max_steps = max_steps
        self.use_dialogue = use_dialogue
        self.still_chunks = still_chunks
        self.still_m = still_m
        self._steps = 0
        self._still = 0
        self._finished = False
        self._instruction: Optional[str] = None

    @classmethod
    def from_checkpoint(cls, folder: str | Path, **kwargs: Any) -> "VLAExecutor":
        from policy.checkpoint import load_checkpoint

        return cls.from_policy(load_checkpoint(folder), **kwargs)

    @classmethod
    def from_policy(cls, policy: Any, *, replan_every: int = 4, execute_steps: Optional[int] = None,
                    **kwargs: Any) -> "VLAExecutor":
        """An executor with its own runtime (queue, reasoning cache) over an already loaded policy."""
        from policy.runtime import RuntimeSettings, VLARuntime

        runtime = VLARuntime(policy, RuntimeSettings(replan_every=replan_every, execute_steps=execute_steps))
        return cls(runtime, **kwargs)

    def reset(self, target: Any) -> None:
        """New motion for an ``agent.context.ActTarget`` (its instruction becomes the prompt)."""
        self.runtime.reset()
        viewpoint = getattr(target, "viewpoint", None)
        if viewpoint is not None and self.runtime.settings.side_words not in (None, viewpoint):
            # "on the left" in the instruction is the scene's viewpoint's left (box_pointer.on_named_side).
            self.runtime.settings = replace(self.runtime.settings, side_words=viewpoint)
        self._target = target if self.steerable else None
        self._instruction = getattr(target, "instruction", None)
        self._steps = 0
        self._still = 0
        self._finished = False

    @property
    def done(self) -> bool:
        return self._finished

    def select_action(self, obs: dict[str, Any], instruction: str, dialogue: list[str]) -> PolicyOutput:
        """Next chunk (execute_steps x 7) from the policy; empty once finished."""
        if self._finished:
            return PolicyOutput(actions=np.zeros((0, 7), dtype=np.float32))
        turns = pair_dialogue(dialogue) if self.use_dialogue else []
        if self._target is not None:  # first call of a motion: steer with the grounded boxes
            self._steer(self._target, obs)
            self._target = None
        chunk = self.runtime.predict_chunk(obs, self._instruction or instruction, turns)
        actions = chunk.actions[: self.runtime.execute_steps]
        self._steps += len(actions)
        moved = float(np.linalg.norm(actions[:, :3].sum(axis=0)))
        self._still = self._still + 1 if moved < self.still_m else 0
        phase = chunk.reasoning.move.split(",")[0].strip()
        if self._steps >= self.max_steps or self._still >= self.still_chunks or phase == "done":
            self._finished = True
        return PolicyOutput(actions=actions, reasoning=chunk.reasoning, raw_text=chunk.reasoning_text,
                            target=chunk.written_target, confidence=chunk.confidence)

    def _steer(self, target: Any, obs: dict[str, Any]) -> None:
        from agent.self_check import image_size, normalised_box

        size = image_size(obs)
        pick = getattr(target, "pick", None)
        if size is None or pick is None or getattr(target, "return_to", None) is not None:
            return
        place = getattr(target, "place", None)
        # Snap to the policy's own listed box of the same object (perception boxes cover the
        # visible pixels, the policy learned projected 3-D boxes; min_iou is where they still
        # mean the same object).
        self.runtime.steer(normalised_box(pick, size), normalised_box(place, size) if place is not None else None,
                           snap_iou=self.snap_iou)


def pair_dialogue(dialogue: list[str]) -> list[tuple[str, str]]:
    """Question/answer pairs from a flat list: a line ending in '?' followed by the reply."""
    pairs = []
    for question, answer in zip(dialogue, dialogue[1:]):
        if question.strip().endswith("?") and not answer.strip().endswith("?"):
            pairs.append((question, answer))
    return pairs
