"""Fast inference: reasoning reuse (Fast-ECoT), one-forward action chunks, an action queue.

``VLARuntime.select_action`` follows LeRobot's pattern: it keeps a queue of actions and calls
the network only when the queue runs dry. A network call is one of two kinds:

* **reason** (first call, new instruction/dialogue, gripper phase change, ``invalidate()``, or
  every ``replan_every`` chunks): prefill the image + prompt + state prefix into a KV cache,
  greedily write the chain of thought token by token on that cache (the TARGET/PLACE boxes
  chosen among the listed VISIBLE OBJECTS, ``policy/inference/box_pointer.py``), then read the action chunk
  with ONE more forward of the C action queries over the same cache;
* **reuse**: ONE forward over prefix + the last reasoning (teacher-forced) + action queries.

What the runtime does beyond the network's output is its rules (``RuntimeSettings.rules``,
``policy/inference/rules.py``): an input transform (``known_words``), logits processors inside the decode
(``namer``, ``box_pointing`` with ``tracking``/``side_words``/``holds``; ``phase_gate``:
``policy/inference/decode_rules.py``), a reasoning transform (``holds``) and output transforms on the chunk
(``gripper_threshold``, ``release_retreat``). ``RuleSet.none()`` runs the network alone.

``naive`` settings (``replan_every=1, execute_steps=1``) reproduce ECoT's reason-every-step
loop; the benchmark compares the two.

**Steering** (ECoT's reasoning intervention): :meth:`VLARuntime.steer` hands the runtime the
boxes the caller already trusts (the agent's own grounding); every chain of thought the policy
writes then has its TARGET (and PLACE) box replaced by them before the actions are read, so the
action chunk conditions on the corrected reasoning. The policy's own TARGET (before the edit)
stays in :attr:`ChunkResult.written_target` for the agent's self-check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np

from common.proprio import Proprio
import torch

from policy.inference.box_pointer import snap_to_listed
from policy.model.checkpoint import LoadedPolicy
from policy.model.cot_format import DialogueTurn, format_prompt, format_reasoning, parse_reasoning
from policy.inference.decode_cache import ReasoningCache, resolve_decode
from policy.inference.decode_rules import CallContext, DecodeStep, decode_processors
from policy.model.geometry import reasoning_geometry
from policy.inference.phase_gate import GraspPoint
from policy.inference.release_retreat import ReleaseRetreat
from policy.inference.policy import ActionChunkBroker, VLAPolicy
from policy.inference.runtime_settings import RuntimeSettings
from policy.inference.transforms import (ImageInput, NetworkInputs, PromptInput, StateInput, ThresholdGripper,
                                         UnnormalizeActions)
from policy.model.tokenizer import decode_text, encode_example
from policy.types import PolicyOutput, ReasonedObject, Reasoning

Box = tuple[float, float, float, float]


@dataclass
class ChunkResult:
    """One network call: unnormalised actions (C, 7) and the reasoning they used."""

    actions: np.ndarray
    reasoning_ids: list[int]
    reasoning_text: str
    reasoning: Reasoning
    confidence: float
    reasoned: bool  # True when this call wrote new reasoning
    # The TARGET the policy itself wrote (differs from reasoning.target when steered).
    written_target: Optional[ReasonedObject] = None


@dataclass
class _Memory:
    prompt: Optional[str] = None
    reasoning_ids: list[int] = field(default_factory=list)
    reasoning_text: str = ""
    reasoning: Reasoning = field(default_factory=Reasoning)
    confidence: float = 0.0
    chunks_since_reasoning: int = 0
    last_gripper: Optional[float] = None
    stale: bool = True
    written_target: Optional[ReasonedObject] = None
    # Box each pointed slot ('TARGET', 'PLACE') got at the last reasoning call of this prompt.
    pointed: dict[str, Box] = field(default_factory=dict)
    # With the holds rule (boxes or place): the first reasoning call's TARGET / PLACE boxes.
    held: Optional[tuple[Optional[Box], Optional[Box]]] = None
    # Where the hand closed on what it holds (proprio; policy/inference/phase_gate.py).
    grasp: GraspPoint = field(default_factory=GraspPoint)


class VLARuntime:
    """Policy interface over a loaded checkpoint: ``reset()`` + ``select_action(obs, ...)``."""

    def __init__(self, policy: LoadedPolicy, settings: RuntimeSettings = RuntimeSettings(), device: str = "cpu"):
        self.policy = policy
        self.settings = settings
        self.device = device
        self.model = policy.model.to(device).eval()
        self.config = policy.config
        #: Actions executed per network call.
        self.execute_steps = settings.execute_steps or self.config.chunk_size
        if not 1 <= self.execute_steps <= self.config.chunk_size:
            raise ValueError(f"execute_steps must be in 1..{self.config.chunk_size}")
        #: The decode mode in use (``settings.decode`` with ``auto`` resolved for ``device``).
        self.decode = resolve_decode(settings.decode, device)
        self._reasoning_cache: Optional[ReasoningCache] = None
        #: The chunk queue of ``select_action``.
        self._broker = ActionChunkBroker(VLAPolicy(self), self.execute_steps)
        # Input and output transforms (policy/inference/transforms.py).
        self._image = ImageInput(self.config.image_size, device)
        self._state = StateInput(policy.stats, device)
        self._prompt = PromptInput(policy.tokenizer)
        self._unnormalize = UnnormalizeActions(policy.stats)
        self._memory = _Memory()
        self._steer: tuple[Optional[Box], Optional[Box]] = (None, None)
        self._snap_iou: Optional[float] = None
        self._snap_place = True
        self._raw_state: Optional[np.ndarray] = None  # proprio state of the current network call
        if policy.namer is not None:
            policy.namer.to(device)
        self._retreat = self._new_retreat()
        self.calls = {"reason": 0, "reuse": 0, "phase_gated": 0, "renamed": 0, "retreat": 0}

    def _new_retreat(self) -> Optional[ReleaseRetreat]:
        rule = self.settings.rules.get("release_retreat")
        return ReleaseRetreat(rule.rise_m) if rule is not None else None

    def _count(self, what: str) -> None:
        self.calls[what] += 1

    # -- LeRobot-style interface -----------------------------------------------------------
    def reset(self) -> None:
        """Forget queued actions, reasoning and steering (new episode)."""
        self._broker.clear()
        self._memory = _Memory()
        self._retreat = self._new_retreat()
        self._steer = (None, None)
        self._snap_iou = None
        self._snap_place = True

    def steer(self, target: Optional[Box], place: Optional[Box] = None, *, snap_iou: Optional[float] = None,
              snap_place: bool = True) -> None:
        """From the next call on, write these normalised (x0, y0, x1, y1) boxes into the TARGET
        (and PLACE) field of every chain of thought before reading actions; None leaves a field
        as the policy wrote it. With ``snap_iou`` each box is first replaced by the policy's own
        VISIBLE OBJECTS box that overlaps it most, when that IoU reaches ``snap_iou``
        (``box_pointer.snap_to_listed``); ``snap_place=False`` writes the PLACE box as given (a
        spot on the table, not an object the policy listed). Forces fresh reasoning."""
        self._steer = (target, place)
        self._snap_iou = snap_iou
        self._snap_place = snap_place
        self.invalidate()

    def invalidate(self) -> None:
        """Force fresh reasoning at the next network call (scene changed, user corrected us);
        the pointed objects are chosen afresh too."""
        self._memory.stale = True
        self._memory.pointed.clear()
        self._memory.held = None
        self._broker.clear()

    def select_action(self, obs: dict[str, Any], instruction: str, dialogue: Sequence[DialogueTurn] = ()) -> PolicyOutput:
        """One action (1, 7) from the chunk queue (``policy/inference/policy.py``'s broker); it
        refills with a network call when empty or when the words changed."""
        out = self._broker.infer({**obs, "prompt": instruction, "dialogue": list(dialogue)})
        return PolicyOutput(actions=np.asarray(out["actions"])[None, :], reasoning=out["reasoning"],
                            raw_text=out["reasoning_text"], target=out["reasoning"].target,
                            confidence=out["confidence"])

    # -- network calls ---------------------------------------------------------------------
    @torch.no_grad()
    def predict_chunk(self, obs: dict[str, Any], instruction: str, dialogue: Sequence[DialogueTurn] = ()) -> ChunkResult:
        """One network call (reason or reuse, see module docstring) -> a whole action chunk."""
        mem = self._memory
        inputs = self._network_inputs(obs, format_prompt(instruction, dialogue))
        prompt, pixels, state = inputs.prompt, inputs.pixels, inputs.state
        mem.grasp.update(self._raw_state)
        if self._retreat is not None and self._retreat.update(self._raw_state, mem.reasoning.place is not None):
            return self._retreat_chunk()
        must_reason = (
            mem.stale
            or prompt != mem.prompt
            or mem.chunks_since_reasoning >= self.settings.replan_every
            or not mem.reasoning_ids
        )
        if must_reason:
            actions = self._reason(prompt, pixels, state)
            self.calls["reason"] += 1
        else:
            actions = self._reuse(prompt, pixels, state)
            self.calls["reuse"] += 1
        return self.finish_chunk(self._unnormalize(actions), must_reason)

    def finish_chunk(self, unnorm: np.ndarray, reasoned: bool) -> ChunkResult:
        """The output transforms of one network call's chunk (arm units, (C, action_dim)) and its
        bookkeeping: the gripper threshold, a replan at a gripper flip, the result."""
        mem = self._memory
        mem.chunks_since_reasoning += 1
        threshold = self.settings.rules.get("gripper_threshold")
        if threshold is not None:
            unnorm = ThresholdGripper(threshold.threshold)(unnorm)
        gripper = float(unnorm[self.execute_steps - 1, 6] > 0.5)
        if self.settings.replan_on_gripper_change and mem.last_gripper is not None and gripper != mem.last_gripper:
            mem.stale = True
        mem.last_gripper = gripper
        return ChunkResult(unnorm, list(mem.reasoning_ids), mem.reasoning_text, mem.reasoning, mem.confidence, reasoned,
                           mem.written_target)

    def _retreat_chunk(self) -> ChunkResult:
        """The hand rises open after a put-down (the ``release_retreat`` rule); the network
        reasons afresh at the call after the retreat."""
        mem = self._memory
        mem.stale = True
        mem.last_gripper = 0.0
        self.calls["retreat"] += 1
        actions = self._retreat.chunk(self.config.chunk_size, self.config.action_dim, self._raw_state)
        return ChunkResult(actions, list(mem.reasoning_ids), mem.reasoning_text, mem.reasoning, mem.confidence, False,
                           mem.written_target)

    def _network_inputs(self, obs: dict[str, Any], prompt: str) -> NetworkInputs:
        """The input transforms: frame, proprio state and prompt as the network reads them."""
        raw_state, state = self._state(obs["state"])
        self._raw_state = raw_state
        readable = self._prompt(prompt, self.settings.rules.on("known_words"))
        return NetworkInputs(prompt, readable, self._image(obs["rgb"]), raw_state, state)

    def _prefix(self, prompt: str, suffix_ids: Optional[list[int]] = None) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        readable = self._prompt(prompt, self.settings.rules.on("known_words"))
        enc = encode_example(self.policy.tokenizer, cfg.num_image_tokens, readable, None, state_token=cfg.state_token)
        ids = enc.input_ids + (suffix_ids or [])
        types = enc.token_type_ids + [1] * len(suffix_ids or [])
        return (
            torch.tensor([ids], device=self.device),
            torch.tensor([types], device=self.device),
        )

    def _reason(self, prompt: str, pixels: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """Prefill, greedy CoT on the KV cache, then the action queries on the same cache."""
        from transformers import DynamicCache

        model, cfg, mem = self.model, self.config, self._memory
        if prompt != mem.prompt:
            mem.pointed.clear()
            mem.held = None
        ids, types = self._prefix(prompt)
        cache = DynamicCache()
        hidden = model.run_backbone(model.embed(ids, pixels, state), types, None, cache)
        cache, step = self._decode_cache(cache)
        logits = model.backbone.lm_head(hidden[:, -1])
        generated: list[int] = []
        probs: list[float] = []
        ctx = CallContext(model=model, tokenizer=self.policy.tokenizer, config=cfg, pixels=pixels[0],
                          raw_state=self._raw_state, pointed=mem.pointed, grasp=mem.grasp, prompt=prompt,
                          namer=self.policy.namer, first_call=not mem.pointed, count=self._count)
        processors = decode_processors(self.settings.rules, ctx)  # read per call: a caller may replace the settings
        while len(generated) < cfg.max_reasoning_tokens:
            p = torch.softmax(logits.float(), dim=-1)[0]
            token = int(torch.argmax(p))
            step_in = DecodeStep(generated, probs, token, logits, cache)
            rewrite = next((r for r in (proc(step_in) for proc in processors) if r is not None), None)
            if rewrite is not None:
                generated, probs, logits = rewrite.generated, rewrite.probs, rewrite.logits
                continue
            generated.append(token)
            probs.append(float(p[token]))
            hidden = step(torch.tensor([[token]], device=self.device))
            if token == cfg.eos_token_id:
                break
            logits = model.backbone.lm_head(hidden[:, -1])
        if not generated or generated[-1] != cfg.eos_token_id:
            # Truncated: close the suffix so the action queries follow an <eos> as in training.
            step(torch.tensor([[cfg.eos_token_id]], device=self.device))
            generated.append(cfg.eos_token_id)
            probs.append(0.0)
        if self.remember_reasoning(prompt, generated, probs):
            return self._reuse(prompt, pixels, state)  # actions read from the edited reasoning
        return model.predict_actions_from_cache(cache, self._geometry())

    def remember_reasoning(self, prompt: str, generated: list[int], probs: list[float]) -> bool:
        """Keep a finished chain of thought (ending in <eos>) as the memory the next calls reuse:
        its text and parse, the ``holds`` rule's kept boxes, the TARGET confidence; then apply
        the steering. True when the steering edited it (the actions must be read again)."""
        mem = self._memory
        mem.prompt = prompt
        mem.reasoning_ids = generated
        mem.reasoning_text = decode_text(self.policy.tokenizer, generated)
        mem.reasoning = parse_reasoning(mem.reasoning_text)
        mem.written_target = mem.reasoning.target
        holds = self.settings.rules.get("holds")
        if holds is not None and (holds.boxes or mem.reasoning.relation in holds.place):  # a held slot keeps its first box
            r, (t, p) = mem.reasoning, mem.held or (None, None)
            t = (t or (r.target.box if r.target else None)) if holds.boxes else None
            mem.held = (t, p or (r.place.box if r.place else None))
        mem.confidence = target_confidence(self.policy.tokenizer, generated, probs)
        mem.chunks_since_reasoning = 0
        mem.stale = False
        return self._apply_steer()

    def _decode_cache(self, prefilled: Any) -> tuple[Any, Any]:
        """(KV cache holding the prefilled prefix, single-token step) for the rest of one
        reasoning call (``RuntimeSettings.decode``)."""
        model = self.model
        if self.decode == "dynamic":
            one = torch.ones(1, 1, dtype=torch.long, device=self.device)
            return prefilled, lambda token: model.run_backbone(model.embed(token, None, None), one, None, prefilled)
        size = ReasoningCache.size_for(self.config, prefilled.get_seq_length())
        if self._reasoning_cache is None or self._reasoning_cache.max_len < size:
            self._reasoning_cache = ReasoningCache(model, size, compiled=self.decode == "compiled")
        return self._reasoning_cache.load(prefilled), self._reasoning_cache.step

    def _apply_steer(self) -> bool:
        """Rewrite the remembered reasoning with the steering boxes; True when it changed."""
        target, place = self._steer
        held = self._memory.held or (None, None)
        target, place = target or held[0], place or held[1]
        r = self._memory.reasoning
        if self._snap_iou is not None:
            target = snap_to_listed(target, r.visible, self._snap_iou) if target is not None else None
            if place is not None and self._snap_place:
                place = snap_to_listed(place, r.visible, self._snap_iou)
        update: dict[str, Any] = {}
        if target is not None and r.target is not None:
            update["target"] = r.target.model_copy(update={"box": tuple(target)})
        if place is not None and r.place is not None:
            update["place"] = r.place.model_copy(update={"box": tuple(place)})
        if not update:
            return False
        edited = r.model_copy(update=update)
        text = format_reasoning(edited)
        tok = self.policy.tokenizer
        self._memory.reasoning = edited
        self._memory.reasoning_text = text
        self._memory.reasoning_ids = tok(text, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        return True

    def _reuse(self, prompt: str, pixels: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """ONE forward: prefix + cached reasoning + action queries."""
        model, cfg = self.model, self.config
        C = cfg.chunk_size
        ids, types = self._prefix(prompt, self._memory.reasoning_ids + [cfg.pad_token_id] * C)
        action_mask = torch.zeros_like(ids, dtype=torch.bool)
        action_mask[0, -C:] = True
        out = model(input_ids=ids, token_type_ids=types, pixel_values=pixels, state=state, action_mask=action_mask,
                    geometry=self._geometry())
        return out.actions

    def _geometry(self) -> torch.Tensor:
        """(1, geometry_dim): the boxes of the reasoning the actions condition on (after steering),
        and with a calibrated camera their offsets from the hand in the current state."""
        vec = reasoning_geometry(self._memory.reasoning, self._raw_state, self.config.geometry_camera)
        return torch.from_numpy(vec)[None].to(self.device)


def target_confidence(tokenizer, ids: list[int], probs: list[float]) -> float:
    """Probability of the TARGET object's name: product over its word tokens (0 if absent).

    The name tokens are those after ``TARGET :`` up to the first ``<loc>`` token.
    """
    tokens = tokenizer.convert_ids_to_tokens(ids)
    try:
        start = tokens.index("TARGET")
    except ValueError:
        return 0.0
    logp = 0.0
    seen = False
    for tok, p in zip(tokens[start + 2 :], probs[start + 2 :]):
        if tok.startswith("<loc") or tok == "\n":
            break
        logp += math.log(max(p, 1e-12))
        seen = True
    return float(math.exp(logp)) if seen else 0.0
