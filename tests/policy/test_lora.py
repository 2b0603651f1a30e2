"""LoRA: language model only by default, vision on request; save/load/merge keep behaviour."""

from __future__ import annotations

import torch

from policy.model.lora import LoraSettings, adapted_module_names, apply_lora, load_adapter, merge_lora, save_adapter
from policy.model.modeling import build_model
from policy.model.tokenizer import encode_example


def _batch(policy):
    cfg = policy.config
    enc = encode_example(policy.tokenizer, cfg.num_image_tokens, "pick up the blue ball", "TASK: pick up the blue ball")
    ids = torch.tensor([enc.input_ids + [cfg.pad_token_id] * cfg.chunk_size])
    types = torch.tensor([enc.token_type_ids + [1] * cfg.chunk_size])
    mask = torch.zeros_like(ids, dtype=torch.bool)
    mask[0, -cfg.chunk_size :] = True
    torch.manual_seed(1)
    return dict(input_ids=ids, token_type_ids=types, pixel_values=torch.rand(1, 3, cfg.image_size, cfg.image_size),
                state=torch.randn(1, 8), action_mask=mask)


def _perturb(peft_model):
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.2)


def test_adapters_go_on_the_language_model_only_by_default(policy):
    names = adapted_module_names(apply_lora(policy.model, LoraSettings(rank=4)))
    assert names and all("language_model" in n for n in names)
    assert not any("vision_tower" in n for n in names)  # q_proj exists there too


def test_vision_adapters_on_request(policy):
    names = adapted_module_names(apply_lora(policy.model, LoraSettings(rank=4, vision=True)))
    assert any("vision_tower" in n for n in names) and any("language_model" in n for n in names)


def test_only_adapters_and_new_head_train(policy):
    peft_model = apply_lora(policy.model, LoraSettings(rank=4))
    trainable = [n for n, p in peft_model.named_parameters() if p.requires_grad]
    assert all("lora_" in n or any(h in n for h in ("state_proj", "action_queries", "action_head")) for n in trainable)
    assert any("lora_" in n for n in trainable)


def test_save_load_and_merge_keep_the_outputs(policy, tmp_path):
    base_state = {k: v.clone() for k, v in policy.model.state_dict().items()}
    batch = _batch(policy)
    peft_model = apply_lora(policy.model, LoraSettings(rank=4)).eval()
    _perturb(peft_model)
    with torch.no_grad():
        want = peft_model(**batch)
    save_adapter(peft_model, tmp_path)

    fresh = build_model(policy.config)
    fresh.load_state_dict(base_state)
    reloaded = load_adapter(fresh, tmp_path).eval()
    with torch.no_grad():
        got = reloaded(**batch)
    torch.testing.assert_close(got.actions, want.actions, atol=1e-5, rtol=1e-4)

    merged = merge_lora(reloaded).eval()
    assert not any("lora_" in n for n, _ in merged.named_parameters())
    with torch.no_grad():
        got = merged(**batch)
    torch.testing.assert_close(got.actions, want.actions, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(got.logits, want.logits, atol=1e-4, rtol=1e-4)
