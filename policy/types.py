"""Typed outputs of a policy: the reasoning it wrote and the action chunk it emits."""

from __future__ import annotations

from typing import Optional

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class ReasonedObject(BaseModel):
    """An object named in the chain of thought with its box (normalised 0..1, x0 y0 x1 y1)."""

    name: str
    box: tuple[float, float, float, float]


class Reasoning(BaseModel):
    """The parsed chain of thought: TASK, PLAN, VISIBLE OBJECTS, TARGET, MOVE."""

    task: str = ""
    plan: list[str] = Field(default_factory=list)
    visible: list[ReasonedObject] = Field(default_factory=list)
    target: Optional[ReasonedObject] = None
    move: str = ""
    place: Optional[ReasonedObject] = Field(None, description="where the target goes (pick-and-place)")
    relation: Optional[str] = Field(None, description="in | on | left_of | ... relative to ``place``")


class PolicyOutput(BaseModel):
    """What ``Policy.select_action`` returns for one call."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    actions: np.ndarray = Field(description="(chunk, 7): delta xyz m, delta rpy rad, gripper 0 open..1 closed")
    reasoning: Reasoning = Field(default_factory=Reasoning)
    raw_text: str = ""
    target: Optional[ReasonedObject] = None
    confidence: float = 1.0
    #: A move the executor scripted itself (going home, rising clear, putting back): no chain of
    #: thought was written for it, so there is nothing to check against the grounding.
    scripted: bool = False
    #: Something the person should be told now (a remote policy server lost or back), else None.
    notice: Optional[str] = None
