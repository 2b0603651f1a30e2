"""The fixed-size (and compiled) reasoning cache writes what the growing one writes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from policy.model.kv_cache import crop
from policy.inference.runtime import RuntimeSettings, VLARuntime

from tests.policy.conftest import fake_obs

PROMPT = "put the red cube in the green bowl"


def run_calls(policy, decode: str, prompts) -> list:
    rt = VLARuntime(policy, RuntimeSettings(decode=decode, replan_every=1))
    return [rt.predict_chunk(fake_obs(seed=i), prompt) for i, prompt in enumerate(prompts)]


def test_static_cache_writes_the_same_reasoning_and_actions_as_the_growing_one(policy):
    long_prompt = " ".join([PROMPT] * 40)  # longer than the cache's prompt budget: it grows
    # A shorter prompt after a longer one: the reused cache holds positions past its prefix.
    prompts = [PROMPT, "pick up the blue ball", long_prompt, PROMPT, "pick up the blue ball"]
    dynamic, static = run_calls(policy, "dynamic", prompts), run_calls(policy, "static", prompts)
    for a, b in zip(dynamic, static):
        assert a.reasoning_ids == b.reasoning_ids
        assert a.confidence == pytest.approx(b.confidence, abs=1e-5)
        # The fixture's actions are ~1e-3 (its stats): compare relative to that scale.
        np.testing.assert_allclose(a.actions, b.actions, rtol=1e-5, atol=1e-9)


def test_an_unknown_decode_mode_is_refused(policy):
    with pytest.raises(ValueError, match="decode must be one of"):
        VLARuntime(policy, RuntimeSettings(decode="fast"))


def test_auto_decode_compiles_on_cuda_and_grows_the_cache_on_cpu(policy):
    from policy.inference.decode_cache import resolve_decode

    assert VLARuntime(policy).decode == "dynamic"  # the default on this CPU
    assert resolve_decode("auto", "cuda") == resolve_decode("auto", "cuda:1") == "compiled"
    assert resolve_decode("static", "cuda") == "static"  # an explicit mode is kept


def test_a_static_cache_whose_layers_cannot_crop_is_cropped_by_its_write_position(policy):
    """transformers 5.17's static layers cannot crop; ``crop`` moves their write position back,
    which is what 5.24's own crop does, and the next forward reads the same."""
    from transformers import StaticCache

    class Uncroppable(StaticCache):  # as in 5.17
        is_croppable = False

    model, H = policy.model, policy.config.text_hidden
    caches = [cls(config=model.backbone.config.text_config, max_cache_len=64) for cls in (StaticCache, Uncroppable)]
    x, y = torch.randn(1, 10, H), torch.randn(1, 2, H)
    out = []
    for cache in caches:
        model.run_backbone(x, torch.ones(1, 10, dtype=torch.long), None, cache)  # causal: the first 7 keys do not see the last 3
        crop(cache, 3)
        assert int(cache.get_seq_length()) == 7
        out.append(model.run_backbone(y, torch.ones(1, 2, dtype=torch.long), None, cache))
    torch.testing.assert_close(out[0], out[1])
    # And both read what a cache that never held the three cropped positions reads.
    fresh = StaticCache(config=model.backbone.config.text_config, max_cache_len=64)
    model.run_backbone(x[:, :7], torch.ones(1, 7, dtype=torch.long), None, fresh)
    torch.testing.assert_close(out[0], model.run_backbone(y, torch.ones(1, 2, dtype=torch.long), None, fresh))


@pytest.mark.slow
def test_the_compiled_step_writes_what_the_eager_one_writes():
    """The embedded checkpoint, three reasoning calls: compiled (torch.compile of the
    single-token step on the fixed cache) against the growing cache."""
    from pathlib import Path

    from policy.model.checkpoint import load_checkpoint

    policy = load_checkpoint(Path(__file__).resolve().parents[2] / "checkpoints" / "vla")
    prompts = [PROMPT, "pick up the blue ball", PROMPT]
    size = policy.config.image_size
    obs = [fake_obs(size=size, seed=i) for i in range(3)]
    out = {}
    for decode in ("dynamic", "compiled"):
        rt = VLARuntime(policy, RuntimeSettings(decode=decode, replan_every=1))
        out[decode] = [rt.predict_chunk(o, p) for o, p in zip(obs, prompts)]
    for a, b in zip(out["dynamic"], out["compiled"]):
        assert a.reasoning_text == b.reasoning_text
        np.testing.assert_allclose(a.actions, b.actions, atol=1e-4)
