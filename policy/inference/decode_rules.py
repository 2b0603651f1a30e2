"""The rules that act inside the chain-of-thought decode, as logits processors.

At every greedy step the runtime hands each processor the tokens written so far and the token
the network would write next (:class:`DecodeStep`). A processor either lets it stand (None) or
rewrites the suffix (:class:`Rewrite`: the tokens, their probabilities and the logits that
follow, the KV cache already holding them). The first that rewrites wins the step. Each is
built from its rule's config (``policy/inference/rules.py``) and is absent when the rule is off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch

from common.proprio import Proprio
from policy.inference.box_pointer import (candidate_box, candidate_boxes, choose_box, keep_tracked, listed_twins, on_named_side,
                                pointed_slot)
from policy.model.cot_format import LOC_BINS, named_side
from policy.inference.decode_cache import feed
from policy.model.kv_cache import crop
from policy.model.object_namer import relabel
from policy.inference.phase_gate import GraspPoint, at_phase_word, phase_candidates
from policy.inference.rules import RuleSet
from policy.model.tokenizer import decode_text

Box = tuple[float, float, float, float]


@dataclass
class DecodeStep:
    """One greedy step of a reasoning call."""

    generated: list[int]  # suffix tokens written so far
    probs: list[float]  # their probabilities
    token: int  # the network's argmax next token
    logits: torch.Tensor  # (1, vocab) logits of that next token
    cache: Any  # KV cache holding prefix + generated


@dataclass
class Rewrite:
    """The suffix after a processor's edit; ``cache`` already holds ``generated``."""

    generated: list[int]
    probs: list[float]
    logits: torch.Tensor


@dataclass
class CallContext:
    """What the processors of one reasoning call share with the runtime."""

    model: Any
    tokenizer: Any
    config: Any  # PolicyConfig
    pixels: torch.Tensor  # (3, H, W) the frame of this call
    raw_state: Any  # proprio state (8,) of this call
    pointed: dict[str, Box]  # box each slot got at the last reasoning call of this prompt (updated)
    grasp: GraspPoint
    prompt: str
    namer: Any = None  # the checkpoint's ObjectNamer, or None
    first_call: bool = True  # no slot pointed yet for this prompt
    count: Optional[Callable[[str], None]] = None  # counts an intervention by name


class NamerProcessor:
    """``namer``: at the first TARGET token (the listing is complete) rewrite the listing once
    with the object namer's names and refined boxes (``object_namer.relabel``)."""

    def __init__(self, rule: Any, ctx: CallContext) -> None:
        self.rule, self.ctx = rule, ctx
        self._target_id = ctx.tokenizer.convert_tokens_to_ids("TARGET")
        self.pending = ctx.namer is not None and (rule.mode == "every" or ctx.first_call)

    def __call__(self, step: DecodeStep) -> Optional[Rewrite]:
        if not self.pending or step.token != self._target_id:
            return None
        self.pending = False
        renamed = self._renamed(step.generated)
        if renamed is None:
            return None
        ids_new, prob_new = renamed
        generated, probs = step.generated, step.probs
        same = next((k for k, (a, b) in enumerate(zip(generated, ids_new)) if a != b), len(generated))
        keep = min(same, len(ids_new) - 1)  # feed at least one token: its logits come next
        crop(step.cache, len(generated) - keep)
        hidden = feed(self.ctx.model, step.cache, ids_new[keep:])
        probs = probs[:keep] + [probs[k] if k < len(probs) and ids_new[k] == generated[k] else prob_new
                                for k in range(keep, len(ids_new))]
        if self.ctx.count:
            self.ctx.count("renamed")
        return Rewrite(ids_new, probs, self.ctx.model.backbone.lm_head(hidden[:, -1]))

    def _renamed(self, generated: list[int]) -> Optional[tuple[list[int], float]]:
        """(token ids of ``generated`` with its listing rewritten by the namer, the lowest
        probability of a changed name), or None when nothing changes."""
        tokenizer = self.ctx.tokenizer
        edited = relabel(decode_text(tokenizer, generated), self.ctx.namer, self.ctx.pixels, self.rule.min_prob,
                         self.rule.refine_min_iou)
        if edited is None:
            return None
        ids = tokenizer(edited[0], add_special_tokens=False)["input_ids"]
        if tokenizer.unk_token_id is not None and tokenizer.unk_token_id in ids:
            return None  # a name the policy's vocabulary lacks: keep what it wrote
        return ids, edited[1]


class BoxPointingProcessor:
    """``box_pointing`` (refined by ``side_words``, ``tracking`` and ``holds.lost``): at the first
    <loc> token of a TARGET/PLACE box, write the whole box as the listed candidate the network
    scores highest (``box_pointer.choose_box``)."""

    def __init__(self, rules: RuleSet, ctx: CallContext) -> None:
        self.ctx = ctx
        self.tracking = rules.get("tracking")
        holds = rules.get("holds")
        self.hold_lost = holds.lost if holds is not None else ()
        self.side_rule = rules.get("side_words")
        self.side = named_side(ctx.prompt) if self.side_rule is not None else None
        self._loc_ids = frozenset(ctx.tokenizer.convert_tokens_to_ids([f"<loc{i:04d}>" for i in range(LOC_BINS)]))

    def __call__(self, step: DecodeStep) -> Optional[Rewrite]:
        if step.token not in self._loc_ids:
            return None
        ctx, tokenizer = self.ctx, self.ctx.tokenizer
        text = decode_text(tokenizer, step.generated)
        candidates = candidate_boxes(tokenizer, text)
        if not candidates:
            return None
        slot = pointed_slot(text)
        if self.side is not None and slot not in ctx.pointed and listed_twins(text):
            candidates = on_named_side(tokenizer, candidates, self.side, ctx.config.geometry_camera,
                                       self.side_rule.viewpoint)
            self.side = None  # the answer was about one object: the first slot with twins
        if self.tracking is not None:
            candidates = keep_tracked(tokenizer, candidates, ctx.pointed.get(slot), self.tracking.iou,
                                      hold_lost=slot in self.hold_lost)
        choice = choose_box(ctx.model, step.cache, step.logits, candidates)
        ctx.pointed[slot] = candidate_box(tokenizer, choice.token_ids)
        return Rewrite(step.generated + choice.token_ids, step.probs + choice.token_probs, choice.next_logits)


class PhaseGateProcessor:
    """``phase_gate``: right before the MOVE phase word, write the allowed phase the network
    scores highest when its own word is not allowed with the gripper the arm reports."""

    def __init__(self, ctx: CallContext) -> None:
        self.ctx = ctx

    def __call__(self, step: DecodeStep) -> Optional[Rewrite]:
        ctx, tokenizer = self.ctx, self.ctx.tokenizer
        if ctx.raw_state is None or not at_phase_word(decode_text(tokenizer, step.generated[-3:])):
            return None
        text = decode_text(tokenizer, step.generated)
        allowed = list(phase_candidates(tokenizer, text, Proprio.from_array(ctx.raw_state).closed,
                                        ctx.grasp.near(ctx.raw_state)).values())
        if not allowed or any(ids[0] == step.token for ids in allowed):
            return None
        choice = choose_box(ctx.model, step.cache, step.logits, allowed)  # the allowed phase it scores highest
        if ctx.count:
            ctx.count("phase_gated")
        return Rewrite(step.generated + choice.token_ids, step.probs + choice.token_probs, choice.next_logits)


def decode_processors(rules: RuleSet, ctx: CallContext) -> list[Callable[[DecodeStep], Optional[Rewrite]]]:
    """The processors of the rules switched on, in the order they are tried at each step."""
    processors: list[Callable[[DecodeStep], Optional[Rewrite]]] = []
    if rules.on("namer"):
        processors.append(NamerProcessor(rules.get("namer"), ctx))
    if rules.on("box_pointing"):
        processors.append(BoxPointingProcessor(rules, ctx))
    if rules.on("phase_gate"):
        processors.append(PhaseGateProcessor(ctx))
    return processors
