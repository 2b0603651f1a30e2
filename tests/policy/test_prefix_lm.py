"""The prefix-LM mask: the suffix (reasoning) must never see its own future."""

from __future__ import annotations

import torch

from policy.model.tokenizer import encode_example


def _inputs(policy):
    cfg = policy.config
    enc = encode_example(policy.tokenizer, cfg.num_image_tokens, "put the red cube in the green bowl",
                         "TASK: put the red cube in the green bowl", state_token=cfg.state_token)
    ids = torch.tensor([enc.input_ids])
    types = torch.tensor([enc.token_type_ids])
    return ids, types, torch.rand(1, 3, cfg.image_size, cfg.image_size) * 2 - 1, torch.randn(1, cfg.state_dim)


def _changed_later_suffix(policy, with_types: bool) -> float:
    """Max change of the logits before the last suffix token when only that token changes."""
    ids, types, pixels, state = _inputs(policy)
    ids2 = ids.clone()
    ids2[0, -2] = policy.tokenizer.convert_tokens_to_ids("blue")
    tt = types if with_types else None
    with torch.no_grad():
        a = policy.model(ids, tt, pixels, state).logits[0, :-2]
        b = policy.model(ids2, tt, pixels, state).logits[0, :-2]
    return float((a - b).abs().max())


def test_suffix_cannot_see_the_future(policy):
    assert _changed_later_suffix(policy, with_types=True) == 0.0


def test_without_token_type_ids_the_future_leaks(policy):
    # The reason the test above matters: drop token_type_ids and the whole sequence is
    # bidirectional without any error, so training would see the labels.
    assert _changed_later_suffix(policy, with_types=False) > 1e-6


def test_prefix_is_bidirectional(policy):
    ids, types, pixels, state = _inputs(policy)
    n = policy.config.num_image_tokens
    ids2 = ids.clone()
    ids2[0, n + 3] = policy.tokenizer.convert_tokens_to_ids("blue")  # a later prompt word
    with torch.no_grad():
        a = policy.model(ids, types, pixels, state).logits[0, :n]
        b = policy.model(ids2, types, pixels, state).logits[0, :n]
    assert float((a - b).abs().max()) > 1e-6  # image tokens see the words after them
