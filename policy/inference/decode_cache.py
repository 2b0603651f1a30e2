"""The KV cache a reasoning call decodes on: grown per call, or fixed-size and compiled.

Writing the chain of thought is one forward per token. In eager PyTorch each of those pays the
framework's fixed cost (Python module calls, mask building, one kernel launch per op), which
dominates at batch 1: on an H100 the 3B decoder spent ~15 ms a token where reading its weights
takes ~2 ms (docs/RESULTS.md, "The policy on an H100"). The known fix is a cache of fixed
shape, so the single-token step is always the same graph and can be compiled once
(``torch.compile``; on CUDA with ``mode="reduce-overhead"``, i.e. replayed as a CUDA graph).

:class:`ReasoningCache` is that: one transformers ``StaticCache`` allocated per runtime, sized for
image + prompt + reasoning + action queries, reset (zeroed in place, same addresses) at each
reasoning call and loaded with the prefix (run eagerly on a ``DynamicCache``, see
:meth:`ReasoningCache.load`), and a single-token ``step`` that is compiled when asked. The box pointer's
candidate forwards and the action queries run eagerly on the same cache and are taken back off
with ``policy.model.kv_cache.crop``.

``RuntimeSettings.decode`` picks ``dynamic`` (transformers' ``DynamicCache``, grown per call),
``static`` (this cache, eager) or ``compiled``; ``auto`` (the default) is ``compiled`` on CUDA
and ``dynamic`` on CPU (:func:`resolve_decode`). All three write the same reasoning and actions
(tests/policy/test_decode_cache.py); ``benchmarks/bench_policy.py`` times them side by side.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

#: Prompt tokens (instruction + dialogue) the fixed-size cache leaves room for; a longer prompt
#: gets a larger cache (and, compiled, one recompilation).
PROMPT_BUDGET = 64
#: Longest box-pointer candidate fed on top of a full reasoning (four <loc> tokens, spare).
CANDIDATE_BUDGET = 8

DECODE_MODES = ("auto", "dynamic", "static", "compiled")


def resolve_decode(mode: str, device: str) -> str:
    """The decode mode a runtime on ``device`` uses: ``auto`` is ``compiled`` on CUDA and
    ``dynamic`` elsewhere. Measured on an H100 (docs/RESULTS.md): the embedded checkpoint's
    reasoning call takes 500 ms eager and 142 ms compiled, the 3B geometry's ~1 s and ~240 ms,
    the same tokens either way. On a 2-core CPU compiling costs ~15 s at start for 1.5x."""
    if mode not in DECODE_MODES:
        raise ValueError(f"decode must be one of {DECODE_MODES}, got {mode!r}")
    if mode != "auto":
        return mode
    return "compiled" if str(device).startswith("cuda") else "dynamic"


def feed(model: Any, cache: Any, ids: list[int]) -> torch.Tensor:
    """Run suffix tokens ``ids`` (causal) through the language model on ``cache``, which grows by
    ``len(ids)``; returns their hidden states (1, len(ids), H)."""
    device = model.action_queries.weight.device
    tokens = torch.tensor([ids], device=device)
    return model.run_backbone(model.embed(tokens, None, None), torch.ones_like(tokens), None, cache)


class ReasoningCache:
    """A fixed-size KV cache reused by every reasoning call, and its single-token step."""

    def __init__(self, model: Any, max_len: int, *, compiled: bool = False) -> None:
        from transformers import StaticCache

        self.model = model
        self.max_len = max_len
        self.cache = StaticCache(config=model.backbone.config.text_config, max_cache_len=max_len)
        device = model.action_queries.weight.device
        self._one = torch.ones(1, 1, dtype=torch.long, device=device)  # token type: suffix (causal)
        step: Callable[[torch.Tensor], torch.Tensor] = self._eager_step
        if compiled:
            mode = "reduce-overhead" if device.type == "cuda" else None
            step = torch.compile(self._eager_step, dynamic=False, mode=mode)
        self._step = step

    @staticmethod
    def size_for(config: Any, prompt_tokens: int) -> int:
        """Cache length for a prefix of ``prompt_tokens`` (image included) plus a full reasoning,
        the action queries and a box candidate."""
        budget = max(prompt_tokens, config.num_image_tokens + PROMPT_BUDGET)
        return budget + config.max_reasoning_tokens + 1 + config.chunk_size + CANDIDATE_BUDGET

    def load(self, prefilled: Any) -> Any:
        """The cache, emptied and holding the keys/values of ``prefilled`` (a ``DynamicCache``
        the image + prompt prefix was run on); returned for the rest of the reasoning call.

        The prefix is not run on the fixed-size cache itself: its attention is bidirectional
        (PaliGemma's prefix-LM mask, from token_type_ids), and on a cache that already holds
        positions (zeroed or stale) beyond the prefix that mask lets the prefix attend to them.
        A fresh cache happens to hide them (its first mask is the prompt's size), a reused one
        does not. The causal single-token steps after it never look past their own position.
        """
        self.cache.reset()
        for layer, source in zip(self.cache.layers, prefilled.layers):
            layer.update(source.keys, source.values)
        return self.cache

    def step(self, token: torch.Tensor) -> torch.Tensor:
        """One decoded token (1, 1) through the language model on the cache; (1, 1, H) hidden."""
        return self._step(self.model.embed(token, None, None))

    def _eager_step(self, embeds: torch.Tensor) -> torch.Tensor:
        return self.model.run_backbone(embeds, self._one, None, self.cache)
