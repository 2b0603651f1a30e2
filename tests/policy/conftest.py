"""Tiny policy fixtures: a 32 px, 32-wide model and a word tokenizer over a few sentences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from policy.model.checkpoint import LoadedPolicy, special_token_ids
from policy.model.config import PolicyConfig, make_config
from policy.model.cot_format import format_prompt, format_reasoning
from policy.model.modeling import build_model
from policy.model.normalize import NormStats
from policy.model.tokenizer import build_word_tokenizer
from policy.types import ReasonedObject, Reasoning

BOX_A = (0.10, 0.20, 0.30, 0.40)
BOX_B = (0.50, 0.55, 0.70, 0.65)


def sample_reasoning() -> Reasoning:
    cube = ReasonedObject(name="red cube", box=BOX_A)
    bowl = ReasonedObject(name="green bowl", box=BOX_B)
    return Reasoning(
        task="put the red cube in the green bowl",
        plan=["reach the red cube", "grasp it", "lift it", "move above the green bowl", "lower it", "release it"],
        visible=[cube, bowl],
        target=cube,
        place=bowl,
        relation="in",
        move="approach , forward left down , gripper open",
    )


SENTENCES = [
    format_reasoning(sample_reasoning()),
    format_prompt("put the red cube in the green bowl"),
    format_prompt("put the cube in the bowl", [("which cube, the red one or the blue one?", "the red one")]),
    "pick up the blue ball TARGET: done hold close",
]


def tiny_config(tokenizer) -> PolicyConfig:
    base = make_config(
        "tiny", image_size=32, patch_size=16, vision_hidden=32, vision_intermediate=64, text_hidden=32,
        text_intermediate=64, text_heads=2, head_dim=16, action_head_hidden=32, chunk_size=4,
        max_reasoning_tokens=12,
    )
    return base.replace(vocab_size=len(tokenizer), **special_token_ids(tokenizer, base.state_token))


@pytest.fixture(scope="session")
def tokenizer():
    return build_word_tokenizer(SENTENCES)


@pytest.fixture()
def policy(tokenizer) -> LoadedPolicy:
    torch.manual_seed(0)
    config = tiny_config(tokenizer)
    rng = np.random.default_rng(0)
    stats = NormStats.fit(rng.normal(size=(50, 7)) * 0.01, rng.normal(size=(50, 8)))
    return LoadedPolicy(model=build_model(config).eval(), tokenizer=tokenizer, stats=stats, config=config)


def fake_obs(size: int = 32, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {"rgb": rng.integers(0, 255, (size, size, 3), dtype=np.uint8), "state": rng.normal(size=8).astype(np.float32)}
