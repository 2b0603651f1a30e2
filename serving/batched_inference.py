"""Many sessions' network calls as ONE batched pass through the VLA: the server's dynamic batching.

``predict_chunks(runtimes, observations, prompts)`` answers what ``runtime.predict_chunk`` answers
for each (runtime, observation) pair, but runs the B calls together:

1. **reasoning**: the rows that must write a new chain of thought are left-padded to one length
   and prefilled together (image + prompt + state, one forward of B rows), then decoded in
   lockstep, one token per row per step on one KV cache of B rows. Each row's choices are the
   runtime's own (``_RowWriter`` below follows ``VLARuntime._reason``): the greedy token, the box
   pointer's choice among the listed boxes and the MOVE phase gate (``policy.inference.box_pointer.choose_box``'s
   scores, all of a row's candidates in one forward over a copy of that row's cache). A chosen box's tokens are fed one per step; a row
   that has finished feeds a masked pad until the slowest row ends;
2. **actions**: every row (reasoning rows after their memory is updated and steered, and rows that
   reuse their last reasoning) reads its action chunk in ONE forward of B rows over
   prefix + reasoning + the C action queries, as ``VLARuntime._reuse`` does for one.

Padding never changes a row's answer: pads are masked out of attention, and every row's position
ids count only its own tokens, so rotary positions are those of the row run alone (a pad or a
finished row's filler is skipped in the count). Results equal the single calls' up to float
rounding (tests/serving/test_batched_inference.py).

Each row follows its runtime's rules (``policy/inference/rules.py``): ``box_pointing`` with
``side_words``, ``tracking`` and ``holds.lost``, ``phase_gate``, ``holds``, ``known_words`` and
``gripper_threshold`` as the runtime's decode processors apply them (``decode_rules.py``). Rows
this path does not cover run alone through ``predict_chunk``: runtimes with the ``namer`` rule on
and a namer in the checkpoint (the server serves steered, with it off) and a batch of one, which
keeps the runtime's own decode (``static`` / ``compiled`` KV caches,
``policy/inference/decode_cache.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generator, Optional, Sequence

import numpy as np
import torch

from policy.inference.box_pointer import (BoxChoice, candidate_box, candidate_boxes, keep_tracked, listed_twins, on_named_side,
                                pointed_slot)
from policy.model.cot_format import LOC_BINS, DialogueTurn, format_prompt, named_side
from common.proprio import Proprio
from policy.inference.phase_gate import at_phase_word, phase_candidates
from policy.inference.runtime import ChunkResult, VLARuntime
from policy.model.tokenizer import decode_text

# A row's decision loop yields the tokens to feed next and is sent the logits (1, V) after them.
_Writer = Generator[list[int], torch.Tensor, tuple[list[int], list[float]]]


@dataclass
class _Row:
    """One call of the batch: its runtime and the tensors of its observation."""

    runtime: VLARuntime
    prompt: str
    pixels: torch.Tensor  # (1, 3, S, S)
    state: torch.Tensor  # (1, state_dim) normalised
    reasons: bool = False
    result: Optional[ChunkResult] = None


def batchable(runtime: VLARuntime) -> bool:
    """True when ``runtime``'s calls can join a batch (see module docstring)."""
    return not runtime.settings.rules.on("namer") or runtime.policy.namer is None


@torch.no_grad()
def predict_chunks(runtimes: Sequence[VLARuntime], observations: Sequence[dict[str, Any]], instructions: Sequence[str],
                   dialogues: Optional[Sequence[Sequence[DialogueTurn]]] = None) -> list[ChunkResult]:
    """``[runtimes[i].predict_chunk(observations[i], instructions[i], dialogues[i])]``, batched.

    The runtimes must be distinct (each call moves its runtime's memory) and share one model."""
    dialogues = dialogues if dialogues is not None else [()] * len(runtimes)
    if len({id(r) for r in runtimes}) != len(runtimes):
        raise ValueError("a batch holds each runtime (session) at most once")
    if len({id(r.model) for r in runtimes}) > 1:
        raise ValueError("a batch runs on one model")
    together = [i for i, r in enumerate(runtimes) if batchable(r)]
    results: list[Optional[ChunkResult]] = [None] * len(runtimes)
    for i in range(len(runtimes)):
        if i not in together or len(together) < 2:
            results[i] = runtimes[i].predict_chunk(observations[i], instructions[i], dialogues[i])
    if len(together) >= 2:
        rows = [_begin(runtimes[i], observations[i], instructions[i], dialogues[i]) for i in together]
        _write_reasoning([row for row in rows if row.reasons])
        _read_actions([row for row in rows if row.result is None])
        for i, row in zip(together, rows):
            results[i] = row.result
    return [r for r in results if r is not None]  # every slot is filled above


def _begin(runtime: VLARuntime, obs: dict[str, Any], instruction: str, dialogue: Sequence[DialogueTurn]) -> _Row:
    """``predict_chunk`` up to the network call: proprio bookkeeping, the release retreat (which
    answers without the network) and whether this call reasons."""
    mem = runtime._memory
    inputs = runtime._network_inputs(obs, format_prompt(instruction, dialogue))  # sets runtime._raw_state
    mem.grasp.update(runtime._raw_state)
    row = _Row(runtime, inputs.prompt, inputs.pixels, inputs.state)
    prompt = inputs.prompt
    if runtime._retreat is not None and runtime._retreat.update(runtime._raw_state, mem.reasoning.place is not None):
        row.result = runtime._retreat_chunk()
        return row
    row.reasons = (mem.stale or prompt != mem.prompt or mem.chunks_since_reasoning >= runtime.settings.replan_every
                   or not mem.reasoning_ids)
    return row


# -- 1. reasoning: lockstep decode of B rows ----------------------------------------------------
def _left_pad(seqs: list[list[int]], types: list[list[int]], pad_id: int) -> tuple[torch.Tensor, ...]:
    """(ids, token types, attention mask, position ids), each (B, L), rows padded on the left."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    typ = torch.zeros((len(seqs), width), dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for b, (s, t) in enumerate(zip(seqs, types)):
        ids[b, width - len(s):] = torch.tensor(s)
        typ[b, width - len(s):] = torch.tensor(t)
        mask[b, width - len(s):] = 1
    return ids, typ, mask, _positions(mask)


def _positions(mask: torch.Tensor) -> torch.Tensor:
    """PaliGemma's 1-based positions counting each row's own (unmasked) tokens only."""
    return (mask.cumsum(dim=1) * mask).clamp(min=1)


def _backbone(model: Any, embeds: torch.Tensor, types: Optional[torch.Tensor], mask: torch.Tensor,
              positions: torch.Tensor, cache: Any = None) -> torch.Tensor:
    """``VLAModel.run_backbone`` with a padding mask and explicit position ids; (B, L, H)."""
    kwargs = {model._cache_kwarg: cache, "use_cache": cache is not None}
    out = model.backbone.model(inputs_embeds=embeds, token_type_ids=types, attention_mask=mask,
                               position_ids=positions, **kwargs)
    return out.last_hidden_state


def _row_cache(cache: Any, mask: torch.Tensor, b: int) -> Any:
    """A one-row ``DynamicCache`` holding row ``b``'s unmasked positions: the cache that row would
    have run alone (what the box pointer scores its candidates on)."""
    from transformers import DynamicCache

    keep = mask[b].nonzero().squeeze(1)
    single = DynamicCache()
    for index, layer in enumerate(cache.layers):
        single.update(layer.keys[b:b + 1, :, keep].clone(), layer.values[b:b + 1, :, keep].clone(), index)
    return single


def score_candidates(model: Any, cache: Any, logits: torch.Tensor, candidates: list[list[int]]) -> BoxChoice:
    """``policy.inference.box_pointer.choose_box``'s choice, its candidates scored in ONE forward: the
    one-row ``cache`` is repeated per candidate and every candidate's tokens (right-padded: the
    suffix is causal, so a pad never reaches an earlier position) run together. ``cache`` is
    left as it was; ``next_logits`` is the winner's (the batch feeds its tokens itself)."""
    from transformers import DynamicCache

    K, width = len(candidates), max(len(c) for c in candidates)
    ids = torch.tensor([c + [c[-1]] * (width - len(c)) for c in candidates], device=logits.device)
    stacked = DynamicCache()
    for index, layer in enumerate(cache.layers):
        stacked.update(layer.keys.expand(K, -1, -1, -1).contiguous(), layer.values.expand(K, -1, -1, -1).contiguous(),
                       index)
    past = cache.get_seq_length()
    mask = torch.ones(K, past + width, dtype=torch.long, device=logits.device)
    positions = past + 1 + torch.arange(width, device=logits.device).expand(K, -1)
    hidden = _backbone(model, model.embed(ids, None, None), None, mask, positions, stacked)
    rest = torch.log_softmax(model.backbone.lm_head(hidden).float(), dim=-1)  # (K, width, V)
    first = torch.log_softmax(logits.float(), dim=-1)[0]
    token_logps = [[float(first[c[0]])] + [float(rest[k, j, c[j + 1]]) for j in range(len(c) - 1)]
                   for k, c in enumerate(candidates)]
    posterior = torch.softmax(torch.tensor([sum(lp) for lp in token_logps]), dim=0)
    best = int(torch.argmax(posterior))
    return BoxChoice(token_ids=list(candidates[best]), token_probs=[math.exp(lp) for lp in token_logps[best]],
                     posterior=float(posterior[best]),
                     next_logits=model.backbone.lm_head(hidden[best:best + 1, len(candidates[best]) - 1]))


def _write_reasoning(rows: list[_Row]) -> None:
    """New chains of thought for ``rows`` (module docstring, step 1); each row's memory updated."""
    from transformers import DynamicCache

    if not rows:
        return
    runtime0 = rows[0].runtime
    model, cfg = runtime0.model, runtime0.config
    device = rows[0].pixels.device
    prefixes = [row.runtime._prefix(row.prompt) for row in rows]
    ids, types, mask, positions = (t.to(device) for t in _left_pad([p[0][0].tolist() for p in prefixes],
                                                                    [p[1][0].tolist() for p in prefixes],
                                                                    cfg.pad_token_id))
    cache = DynamicCache()
    embeds = model.embed(ids, torch.cat([r.pixels for r in rows]), torch.cat([r.state for r in rows]))
    hidden = _backbone(model, embeds, types, mask, positions, cache)
    logits = model.backbone.lm_head(hidden[:, -1])  # (B, V)
    state = {"mask": mask}  # the attention mask grows with every step; _row_cache reads it
    writers = [_RowWriter(row, lambda b=b: _row_cache(cache, state["mask"], b)) for b, row in enumerate(rows)]
    pending = [w.start(logits[b:b + 1]) for b, w in enumerate(writers)]
    while any(p for p in pending):
        feed = torch.full((len(rows), 1), cfg.pad_token_id, dtype=torch.long, device=device)
        fed = torch.zeros((len(rows), 1), dtype=torch.long, device=device)
        for b, tokens in enumerate(pending):
            if tokens:
                feed[b, 0] = tokens.pop(0)
                fed[b, 0] = 1
        state["mask"] = torch.cat([state["mask"], fed], dim=1)
        step_pos = _positions(state["mask"])[:, -1:]
        hidden = _backbone(model, model.embed(feed, None, None), None, state["mask"], step_pos, cache)
        logits = model.backbone.lm_head(hidden[:, -1])
        for b, w in enumerate(writers):
            if fed[b, 0] and not pending[b]:  # the row's last queued token: its next decision
                pending[b] = w.send(logits[b:b + 1])
    for w in writers:
        w.finish()


class _RowWriter:
    """One row's decisions while the batch decodes: ``VLARuntime._reason``'s loop as a generator
    (the runtime's settings and memory, the box pointer, the phase gate); the batch feeds what it
    yields and sends back the logits after the last of those tokens."""

    def __init__(self, row: _Row, row_cache: Any) -> None:
        self.row = row
        self.row_cache = row_cache
        self.generated: list[int] = []
        self.probs: list[float] = []
        self._loop: Optional[_Writer] = None
        tokenizer = row.runtime.policy.tokenizer
        self._loc_ids = frozenset(tokenizer.convert_tokens_to_ids([f"<loc{i:04d}>" for i in range(LOC_BINS)]))

    def start(self, logits: torch.Tensor) -> list[int]:
        self._loop = self._decide(logits)
        try:
            return next(self._loop)
        except StopIteration:  # no reasoning tokens allowed at all
            return []

    def send(self, logits: torch.Tensor) -> list[int]:
        assert self._loop is not None
        try:
            return self._loop.send(logits)
        except StopIteration:
            return []

    def _decide(self, logits: torch.Tensor) -> _Writer:
        runtime, row = self.row.runtime, self.row
        model, cfg, mem, rules = runtime.model, runtime.config, runtime._memory, runtime.settings.rules
        if row.prompt != mem.prompt:
            mem.pointed.clear()
            mem.held = None
        generated, probs = self.generated, self.probs
        side_rule, tracking, holds = rules.get("side_words"), rules.get("tracking"), rules.get("holds")
        hold_lost = holds.lost if holds is not None else ()
        side = named_side(row.prompt) if side_rule is not None else None
        while len(generated) < cfg.max_reasoning_tokens:
            p = torch.softmax(logits.float(), dim=-1)[0]
            token = int(torch.argmax(p))
            if rules.on("box_pointing") and token in self._loc_ids:
                tokenizer = runtime.policy.tokenizer
                text = decode_text(tokenizer, generated)
                candidates = candidate_boxes(tokenizer, text)
                if candidates:
                    slot = pointed_slot(text)
                    if side is not None and slot not in mem.pointed and listed_twins(text):
                        candidates = on_named_side(tokenizer, candidates, side, cfg.geometry_camera,
                                                   side_rule.viewpoint)
                        side = None
                    if tracking is not None:
                        candidates = keep_tracked(tokenizer, candidates, mem.pointed.get(slot), tracking.iou,
                                                  hold_lost=slot in hold_lost)
                    choice = score_candidates(model, self.row_cache(), logits, candidates)
                    mem.pointed[slot] = candidate_box(tokenizer, choice.token_ids)
                    generated.extend(choice.token_ids)
                    probs.extend(choice.token_probs)
                    logits = yield list(choice.token_ids)
                    continue
            allowed = _allowed_phases(runtime, generated) if rules.on("phase_gate") else []
            if allowed and not any(ids[0] == token for ids in allowed):
                choice = score_candidates(model, self.row_cache(), logits, allowed)
                generated.extend(choice.token_ids)
                probs.extend(choice.token_probs)
                runtime.calls["phase_gated"] += 1
                logits = yield list(choice.token_ids)
                continue
            generated.append(token)
            probs.append(float(p[token]))
            if token == cfg.eos_token_id:
                yield [token]  # fed so the batch stays in step; the reasoning is complete
                break
            logits = yield [token]
        return generated, probs

    def finish(self) -> None:
        """The end of ``VLARuntime._reason``: close a truncated reasoning, update the memory,
        apply steering (actions are then read in step 2)."""
        runtime, row = self.row.runtime, self.row
        generated, probs = self.generated, self.probs
        if not generated or generated[-1] != runtime.config.eos_token_id:
            generated.append(runtime.config.eos_token_id)
            probs.append(0.0)
        runtime.remember_reasoning(row.prompt, generated, probs)


def _allowed_phases(runtime: VLARuntime, generated: list[int]) -> list[list[int]]:
    """Token ids of the MOVE phase words the reported gripper allows when ``generated`` stops right
    before the phase word (the ``phase_gate`` rule, as ``decode_rules.PhaseGateProcessor``); []
    anywhere else."""
    tokenizer, state = runtime.policy.tokenizer, runtime._raw_state
    if state is None or not at_phase_word(decode_text(tokenizer, generated[-3:])):
        return []
    text = decode_text(tokenizer, generated)
    return list(phase_candidates(tokenizer, text, Proprio.from_array(state).closed,
                                 runtime._memory.grasp.near(state)).values())


# -- 2. actions: one forward of B rows -----------------------------------------------------------
def _read_actions(rows: list[_Row]) -> None:
    """Every row's action chunk from prefix + its reasoning + the C action queries (one forward),
    then ``predict_chunk``'s bookkeeping (counters, gripper, replanning on a gripper flip)."""
    if not rows:
        return
    runtime0 = rows[0].runtime
    model, cfg = runtime0.model, runtime0.config
    C = cfg.chunk_size
    prefixes = [row.runtime._prefix(row.prompt, row.runtime._memory.reasoning_ids + [cfg.pad_token_id] * C)
                for row in rows]
    device = rows[0].pixels.device
    ids, types, mask, positions = (t.to(device) for t in _left_pad([p[0][0].tolist() for p in prefixes],
                                                                    [p[1][0].tolist() for p in prefixes],
                                                                    cfg.pad_token_id))
    action_mask = torch.zeros_like(ids, dtype=torch.bool)
    action_mask[:, -C:] = True  # left padding: every row's queries are its last C positions
    embeds = model.embed(ids, torch.cat([r.pixels for r in rows]), torch.cat([r.state for r in rows]), action_mask)
    hidden = _backbone(model, embeds, types, mask, positions)
    geometry = torch.cat([row.runtime._geometry() for row in rows])
    actions = model.action_head(hidden[action_mask].view(len(rows), C, -1), geometry)
    for b, row in enumerate(rows):
        runtime = row.runtime
        runtime.calls["reason" if row.reasons else "reuse"] += 1
        row.result = runtime.finish_chunk(runtime.policy.stats.unnormalize_action(actions[b].float().cpu().numpy()),
                                          row.reasons)
