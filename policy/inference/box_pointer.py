"""Point the TARGET (and PLACE) box at an object the chain of thought already listed.

The policy writes VISIBLE OBJECTS before TARGET. Measured on held-out first frames, the list
holds a box with the right name and IoU >= 0.5 around the true target far more often than the
freely decoded TARGET box does: the small decoder tends to copy the box of a neighbouring
listed object. So when the decoder reaches a TARGET/PLACE box (``cot_format.open_box_slot``),
the box is not sampled token by token but chosen among the listed boxes, a grammar-constrained
decoding step: the candidates are the listed objects of the same name (all listed objects when
none has it; the PLACE never takes the TARGET's box), each scored by the model's own
log-likelihood of its four ``<loc>`` tokens (teacher-forced on the KV cache, which is cropped
back after each candidate), and the best one is written. ``BoxChoice.posterior`` (softmax over
the candidates) says how sure the policy is of *which* object; nothing reads it yet.

When the person said which twin ("A: the left one", "the red cube on the left") and the slot's
listed candidates are twins, the side decides (``on_named_side``: the candidates' positions on
the table through the camera calibration the policy was trained with), at the first reasoning
call of the instruction only; tracking keeps that object afterwards (a carried twin may pass
the other one). The network itself does not follow the side word: on held-out twin first
frames it wrote the same twin for "left" and "right".

Later reasoning calls of the same instruction (the arm over the object, the object in the hand)
list worse than the first one, so the runtime keeps the object it chose (``keep_tracked``): a
slot's candidates are narrowed to those that overlap the box that slot got at the previous call,
when any does. A PLACE (bowl, reference object) does not move while the arm carries; a TARGET
that has been lifted no longer overlaps its old box and falls back to every candidate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import torch

from policy.model.cot_format import box_iou, listed_objects, loc_tokens, open_box_slot, parse_loc_tokens
from policy.inference.decode_cache import feed
from policy.model.kv_cache import crop
from policy.types import ReasonedObject

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class BoxChoice:
    """The chosen candidate's tokens, their probabilities, the posterior over candidates and
    the logits after the last token (the decoder continues from there)."""

    token_ids: list[int]
    token_probs: list[float]
    posterior: float
    next_logits: torch.Tensor


def candidate_boxes(tokenizer: Any, text: str) -> list[list[int]]:
    """Token ids of each listed box the next TARGET/PLACE box may point at; [] when ``text``
    is not right before such a box or nothing was listed."""
    name = open_box_slot(text)
    if name is None:
        return []
    listed = _pointable(text)
    same = [locs for obj, locs in listed if obj == name]
    boxes = same or [locs for _, locs in listed]
    unique = list(dict.fromkeys(boxes))
    return [tokenizer.convert_tokens_to_ids(_split_locs(locs)) for locs in unique]


def pointed_slot(text: str) -> str:
    """'PLACE' when the box about to be pointed follows the '; <relation>' of the TARGET line,
    else 'TARGET' (``text`` is the partial reasoning for which ``candidate_boxes`` gave boxes)."""
    return "PLACE" if ";" in text[text.rfind("TARGET") :] else "TARGET"


def candidate_box(tokenizer: Any, ids: list[int]) -> Box:
    """The normalised (x0, y0, x1, y1) a candidate's four ``<loc>`` token ids stand for."""
    return parse_loc_tokens("".join(tokenizer.convert_ids_to_tokens(ids)))


def keep_tracked(tokenizer: Any, candidates: list[list[int]], previous: Optional[Box], min_iou: float,
                 hold_lost: bool = False) -> list[list[int]]:
    """The candidates whose box overlaps ``previous`` (this slot's box at the previous reasoning
    call of the same instruction) by IoU >= ``min_iou``. When none does: all of them, or with
    ``hold_lost`` the ``previous`` box itself as the one candidate (an object that does not move,
    not listed at this call because the hand or what it carries hides it). All of them when
    there is no previous box."""
    if previous is None:
        return candidates
    kept = [ids for ids in candidates if box_iou(candidate_box(tokenizer, ids), previous) >= min_iou]
    if not kept and hold_lost:
        return [tokenizer(loc_tokens(previous), add_special_tokens=False)["input_ids"]]
    return kept or candidates


def listed_twins(text: str) -> bool:
    """Whether the box about to be pointed (``text`` ends right before it) has two or more listed
    objects of its name to choose from, twins the words alone cannot tell apart."""
    name = open_box_slot(text)
    return name is not None and len({locs for obj, locs in _pointable(text) if obj == name}) > 1


def _pointable(text: str) -> list[tuple[str, str]]:
    """(name, box tokens) of the listed objects the next box may point at: all but a box the
    TARGET line already took (the PLACE is never the TARGET)."""
    target_line = text[text.rfind("TARGET") :]
    return [(obj, locs) for obj, locs in listed_objects(text) if locs not in target_line]


def on_named_side(tokenizer: Any, candidates: list[list[int]], side: Optional[str], camera: Any,
                  viewpoint: str = "user") -> list[list[int]]:
    """The twin on the person's ``side`` ('left' / 'right' / 'front' / 'back'), as a
    one-candidate list.

    Each candidate box centre is lifted onto the table through ``camera`` (a
    ``policy.model.geometry.CameraCalibration``) and the twins are ordered by the robot's y (its left is
    +y) or, for front/back, by its x (front is nearer the speaker). ``viewpoint`` says whose
    words they are: ``user`` (the person across the table: their left is the robot's right, their
    front the far side from the robot) or ``robot``. All candidates come back unchanged when no
    side was said, there is no calibration, or there is only one candidate."""
    if side is None or camera is None or len(candidates) < 2:
        return candidates
    points = camera.lift([candidate_box(tokenizer, ids) for ids in candidates])
    if side in ("front", "back"):
        x = points[:, 0]
        robots_near = (side == "front") == (viewpoint == "robot")
        return [candidates[int(x.argmin() if robots_near else x.argmax())]]
    y = points[:, 1]
    robots_left = (side == "left") == (viewpoint == "robot")
    return [candidates[int(y.argmax() if robots_left else y.argmin())]]


def _split_locs(locs: str) -> list[str]:
    return [f"<loc{part}" for part in locs.split("<loc") if part]


@torch.no_grad()
def choose_box(model: Any, cache: Any, logits: torch.Tensor, candidates: list[list[int]]) -> BoxChoice:
    """Score each candidate box after the cached context and write the best one into the cache.

    ``logits`` (1, V) are the decoder's logits for the next token (the box's first token).
    Each candidate is one forward of its tokens over the cache, then cropped away; the winner
    is fed again so the cache ends right after it.
    """
    first = torch.log_softmax(logits.float(), dim=-1)[0]
    scores: list[float] = []
    token_logps: list[list[float]] = []
    for ids in candidates:
        hidden = feed(model, cache, ids)
        crop(cache, len(ids))
        rest = torch.log_softmax(model.backbone.lm_head(hidden[0, :-1]).float(), dim=-1)
        logps = [float(first[ids[0]])] + [float(rest[k, ids[k + 1]]) for k in range(len(ids) - 1)]
        token_logps.append(logps)
        scores.append(sum(logps))
    posterior = torch.softmax(torch.tensor(scores), dim=0)
    best = int(torch.argmax(posterior))
    hidden = feed(model, cache, candidates[best])
    return BoxChoice(
        token_ids=list(candidates[best]),
        token_probs=[math.exp(lp) for lp in token_logps[best]],
        posterior=float(posterior[best]),
        next_logits=model.backbone.lm_head(hidden[:, -1]),
    )


def snap_to_listed(box: Box, listed: list[ReasonedObject], min_iou: float) -> Box:
    """The listed box that overlaps ``box`` most when that IoU is at least ``min_iou``, else
    ``box``. Steering with an outside box (the agent's perception boxes cover visible pixels,
    the policy's are projected 3-D boxes) then hands the policy the same object in its own
    box format: the outside box chooses which object, the list says where it is."""
    best = max(listed, key=lambda obj: box_iou(obj.box, box), default=None)
    if best is not None and box_iou(best.box, box) >= min_iou:
        return best.box
    return box

