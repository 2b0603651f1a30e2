"""The CoT self-check: does the policy mean to act on the object the agent grounded?

A VLA policy writes its chain of thought before its first action chunk; its TARGET field names
the object it will act on, with a box (``PolicyOutput.target``, normalised 0..1 x0 y0 x1 y1)
and the probability of that name (``PolicyOutput.confidence``). Before the first chunk of a
motion is sent, :func:`check_target` compares that TARGET with the agent's own choice (a
perceived object with a pixel box). They disagree, for the FIRST of these reasons that holds:

- ``name``: the TARGET's colour or shape words contradict the grounded object (or it named
  nothing the agent can read);
- ``box``: the boxes overlap less than ``SelfCheckSettings.min_iou`` (IoU);
- ``low_confidence``: name and box agree but the policy's confidence is below
  ``SelfCheckSettings.min_confidence``.

The privileged expert writes its TARGET from the perceived object it was handed, so it always
agrees (IoU 1, confidence 1). What the agent does on a disagreement (look again, then ask, or
stop) lives in ``agent.nodes_act``; the wording of what it says lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Optional, Sequence

from pydantic import BaseModel, ConfigDict, Field

from perception.types import PerceivedObject
from policy.model.cot_format import box_iou
from policy.types import PolicyOutput, ReasonedObject

from agent.dialogue import said_attributes

Box = tuple[float, float, float, float]
DisagreementReason = Literal["name", "box", "low_confidence"]
#: What the agent did after a check: acted on it, looked again (re-perceived and re-grounded),
#: re-queried the policy in place, asked the person, acted because the person vouched for a
#: low-confidence target, or stopped without moving.
SelfCheckAction = Literal["passed", "look_again", "requery", "ask", "vouched", "steered", "stop"]


@dataclass(frozen=True)
class SelfCheckSettings:
    """Thresholds of the self-check (``AgentSettings.self_check``)."""

    # IoU (0..1) of the policy's TARGET box with the grounded object's box below which they
    # disagree. The policy learns projected 3-D bounding boxes, perception boxes the visible
    # pixels, so the same object overlaps well short of 1: those training boxes against
    # perception's for 123 objects of 45 suite scenes at 96 px gave IoU 0.38 at worst, 0.61 median.
    min_iou: float = 0.3
    # Policy confidence in its TARGET name (product of the name tokens' probabilities, 0..1)
    # below which it is not trusted to act on its own.
    min_confidence: float = 0.5
    # Times it looks again (re-perceive, or re-query the policy) before asking the person.
    max_retries: int = 1


class SelfCheckVerdict(BaseModel):
    """The policy's TARGET against the agent's grounding, for one motion's first chunk."""

    model_config = ConfigDict(frozen=True)

    agree: bool
    reason: Optional[DisagreementReason] = Field(None, description="first disagreement found; None when they agree")
    iou: Optional[float] = Field(None, description="IoU of the two boxes; None when the policy gave no box")
    confidence: float = Field(description="the policy's confidence in its TARGET name, 0..1")
    policy_target: Optional[str] = Field(None, description="the name the policy wrote as TARGET")
    policy_box: Optional[Box] = Field(None, description="the policy's TARGET box, normalised x0 y0 x1 y1")
    grounded: str = Field(description="the grounded object's colour and shape ('red cube')")


class SelfCheckRecord(BaseModel):
    """One self-check of an instruction and what the agent did about it (kept in the state)."""

    model_config = ConfigDict(frozen=True)

    verdict: SelfCheckVerdict
    action: SelfCheckAction


def self_check_disagreements(records: Sequence[SelfCheckRecord]) -> int:
    """Checks in which the policy's TARGET disagreed with the grounding (the report's metric)."""
    return sum(not r.verdict.agree for r in records)


def image_size(obs: dict[str, Any]) -> Optional[tuple[int, int]]:
    """(width, height) in pixels of the frame the policy saw: the camera model's, else the image's."""
    camera = obs.get("camera")
    if camera is not None:
        return int(camera.width), int(camera.height)
    rgb = obs.get("rgb")
    if rgb is not None:
        return int(rgb.shape[1]), int(rgb.shape[0])
    return None


def normalised_box(obj: PerceivedObject, size: tuple[int, int]) -> Box:
    """The object's pixel box as fractions (0..1) of the image (width, height)."""
    w, h = size
    x0, y0, x1, y1 = obj.box
    return (x0 / w, y0 / h, x1 / w, y1 / h)


def policy_target(output: PolicyOutput) -> Optional[ReasonedObject]:
    """The TARGET the policy wrote (``output.target``, else its parsed reasoning's)."""
    return output.target if output.target is not None else output.reasoning.target


def name_agrees(name: str, obj: PerceivedObject) -> bool:
    """True when the name's colour and shape words (everyday words allowed: 'block') fit ``obj``
    and it has at least one of them (a size word alone says nothing the agent can check)."""
    color, shape = said_attributes(name)
    if color is None and shape is None:
        return False
    return (color is None or color == obj.color) and (shape is None or shape == obj.shape)


def check_target(output: PolicyOutput, grounded: PerceivedObject, size: Optional[tuple[int, int]],
                 settings: SelfCheckSettings) -> SelfCheckVerdict:
    """Compare the policy's TARGET with the grounded object (``size``: the frame's (w, h) in
    pixels; None skips the box check)."""
    target = policy_target(output)
    confidence = float(output.confidence)
    common = dict(confidence=confidence, grounded=f"{grounded.color} {grounded.shape}")
    if target is None:
        return SelfCheckVerdict(agree=False, reason="name", **common)
    iou = box_iou(target.box, normalised_box(grounded, size)) if size is not None else None
    common.update(iou=iou, policy_target=target.name, policy_box=target.box)
    if not name_agrees(target.name, grounded):
        return SelfCheckVerdict(agree=False, reason="name", **common)
    if iou is not None and iou < settings.min_iou:
        return SelfCheckVerdict(agree=False, reason="box", **common)
    if confidence < settings.min_confidence:
        return SelfCheckVerdict(agree=False, reason="low_confidence", **common)
    return SelfCheckVerdict(agree=True, **common)


def object_at(box: Sequence[float], objects: Sequence[PerceivedObject], size: Optional[tuple[int, int]],
              min_iou: float) -> Optional[PerceivedObject]:
    """The perceived object the policy's box covers best (IoU at least ``min_iou``), or None."""
    if size is None or not objects:
        return None
    best = max(objects, key=lambda o: box_iou(box, normalised_box(o, size)))
    return best if box_iou(box, normalised_box(best, size)) >= min_iou else None


# -- what the robot says about a disagreement ---------------------------------------------------


def reaching_for(verdict: SelfCheckVerdict, policy_phrase: Optional[str], grounded_phrase: str) -> str:
    """One sentence naming the difference: 'My policy is reaching for the blue cube, but I
    understood the red cube.' ``policy_phrase``: the object the policy's box covers, described
    among the others ('the red cube on the left'), when there is one."""
    if verdict.reason == "low_confidence":
        return (f"My policy is reaching for {grounded_phrase}, but it is unsure "
                f"(confidence {verdict.confidence:.2f}).")
    if verdict.policy_target is None:
        return f"My policy did not say what it is reaching for, but I understood {grounded_phrase}."
    if policy_phrase is None or policy_phrase == grounded_phrase:
        said = verdict.policy_target.strip()
        policy_phrase = said if said.startswith(("the ", "a ", "an ")) else f"the {said}"
        if verdict.reason == "box":
            policy_phrase = f"{policy_phrase} somewhere else"
    return f"My policy is reaching for {policy_phrase}, but I understood {grounded_phrase}."


def ask_text(difference: str, grounded_phrase: str) -> str:
    """The one question: the difference, then whether to take what the agent understood."""
    return f"{difference} Should I take {grounded_phrase}?"


def stop_text(difference: str) -> str:
    """Why it stops without moving after it looked again (and asked, where it could)."""
    return f"{difference} I won't move rather than act on the wrong object."
