"""A batch of B calls through one batched pass answers what B single calls answer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from policy.inference.rules import RuleSet
from policy.inference.runtime import RuntimeSettings, VLARuntime
from serving.batched_inference import predict_chunks
from tests.policy.conftest import BOX_A, BOX_B, fake_obs, policy, tokenizer  # noqa: F401  (fixtures)

SETTINGS = RuntimeSettings(rules=RuleSet.all().steered())
PROMPTS = ["put the red cube in the green bowl", "pick up the blue ball", "put the cube in the bowl"]
DIALOGUES = [[], [], [("which cube, the red one or the blue one?", "the red one")]]  # rows of unequal length
CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "vla"


def _compare(policy, settings, prompts, dialogues, steers, calls: int, image_size: int) -> list[tuple[bool, bool]]:  # noqa: F811
    """Run ``calls`` rounds of B calls singly and batched; assert equal; (reasoned single, batched) per call."""
    single = [VLARuntime(policy, settings) for _ in prompts]
    batched = [VLARuntime(policy, settings) for _ in prompts]
    for runtime, steer in zip(single + batched, steers + steers):
        if steer is not None:
            runtime.steer(*steer)
    reasoned = []
    for k in range(calls):
        obs = [fake_obs(image_size, seed=10 * k + b) for b in range(len(prompts))]
        want = [r.predict_chunk(o, p, d) for r, o, p, d in zip(single, obs, prompts, dialogues)]
        got = predict_chunks(batched, obs, prompts, dialogues)
        for w, g in zip(want, got):
            assert g.reasoning_text == w.reasoning_text
            assert g.reasoning_ids == w.reasoning_ids
            np.testing.assert_allclose(g.actions, w.actions, rtol=1e-4, atol=1e-4)
            assert g.confidence == pytest.approx(w.confidence, rel=1e-4, abs=1e-6)
            reasoned.append((w.reasoned, g.reasoned))
    for s, b in zip(single, batched):
        assert s.calls == b.calls
    return reasoned


def test_a_batch_answers_as_single_calls_reasoning_and_reuse(policy):  # noqa: F811
    settings = RuntimeSettings(rules=RuleSet.all().steered(), replan_every=2)
    steers = [(BOX_A, BOX_B), None, (BOX_B, None)]
    reasoned = _compare(policy, settings, PROMPTS, DIALOGUES, steers, calls=3, image_size=32)
    assert all(a == b for a, b in reasoned)
    assert any(a for a, _ in reasoned) and any(not a for a, _ in reasoned)  # both kinds of call ran


def test_a_batch_refuses_one_session_twice(policy):  # noqa: F811
    runtime = VLARuntime(policy, SETTINGS)
    with pytest.raises(ValueError, match="at most once"):
        predict_chunks([runtime, runtime], [fake_obs(), fake_obs()], PROMPTS[:2])


@pytest.mark.slow
def test_the_embedded_checkpoint_batched_as_single_calls():
    """The trained checkpoint points boxes and gates phases: batched decisions equal single ones."""
    from policy.model.checkpoint import load_checkpoint

    loaded = load_checkpoint(str(CHECKPOINT))
    prompts = ["put the red cube in the green bowl", "pick up the blue ball", "put the yellow cube on the red cube",
               "pick up the green cube"]
    steers = [((0.30, 0.40, 0.40, 0.50), (0.55, 0.45, 0.75, 0.60)), None, None, ((0.2, 0.5, 0.3, 0.6), None)]
    _compare(loaded, SETTINGS, prompts, [[]] * 4, steers, calls=2, image_size=96)
