"""Runtime: action queue, reasoning reuse, one-forward chunks that match the reasoning path."""

from __future__ import annotations

import numpy as np
import torch

from policy.inference.rules import RuleSet
from policy.inference.runtime import RuntimeSettings, VLARuntime, target_confidence
from policy.inference.runtime_settings import NAIVE

from tests.policy.conftest import fake_obs

PROMPT = "put the red cube in the green bowl"


def calls(rt: VLARuntime) -> dict[str, int]:
    return {k: rt.calls[k] for k in ("reason", "reuse")}


def test_actions_come_from_a_queue_one_network_call_per_chunk(policy):
    rt = VLARuntime(policy, RuntimeSettings(replan_every=100, replan_on_gripper_change=False))
    C = policy.config.chunk_size
    outs = [rt.select_action(fake_obs(seed=i), PROMPT) for i in range(3 * C)]
    assert all(o.actions.shape == (1, 7) for o in outs)
    assert calls(rt) == {"reason": 1, "reuse": 2}


def test_naive_settings_reason_at_every_step(policy):
    rt = VLARuntime(policy, NAIVE)
    for i in range(3):
        rt.select_action(fake_obs(seed=i), PROMPT)
    assert calls(rt) == {"reason": 3, "reuse": 0}


def test_reasoning_is_redone_every_n_chunks_and_on_new_words(policy):
    rt = VLARuntime(policy, RuntimeSettings(replan_every=2, replan_on_gripper_change=False))
    for i in range(4):
        rt.predict_chunk(fake_obs(seed=i), PROMPT)
    assert calls(rt) == {"reason": 2, "reuse": 2}
    assert rt.predict_chunk(fake_obs(), PROMPT, [("the left or the right one?", "the left one")]).reasoned


def test_reused_reasoning_gives_the_same_chunk_as_fresh_reasoning(policy):
    # The cached-prefix path (prefill + token-by-token + queries on the KV cache) and the
    # one-forward reuse path must agree for the same observation.
    rt = VLARuntime(policy, RuntimeSettings(replan_every=10, replan_on_gripper_change=False))
    obs = fake_obs(seed=3)
    fresh = rt.predict_chunk(obs, PROMPT)
    reused = rt.predict_chunk(obs, PROMPT)
    assert fresh.reasoned and not reused.reasoned
    assert fresh.actions.shape == (policy.config.chunk_size, 7)
    np.testing.assert_allclose(reused.actions, fresh.actions, atol=1e-4)


def test_actions_are_unnormalised_with_the_checkpoint_stats(policy):
    rt = VLARuntime(policy, RuntimeSettings(replan_every=10))
    a = rt.predict_chunk(fake_obs(), PROMPT).actions
    # Stats were fitted on actions of std 0.01 around 0: metres, not normalised units.
    assert np.abs(a).max() < 0.5


def test_target_confidence_reads_the_target_name_tokens(tokenizer):
    ids = tokenizer("TARGET: red cube <loc0001>", add_special_tokens=False)["input_ids"]
    probs = [0.9, 0.9, 0.5, 0.4, 0.1]
    assert abs(target_confidence(tokenizer, ids, probs) - 0.2) < 1e-6
    assert target_confidence(tokenizer, ids[2:], probs[2:]) == 0.0


def test_the_gripper_is_sent_fully_open_or_closed_unless_asked_for_the_raw_value(policy):
    obs = fake_obs(seed=2)
    sent = VLARuntime(policy).predict_chunk(obs, PROMPT).actions[:, 6]
    raw = VLARuntime(policy, RuntimeSettings(rules=RuleSet.all().without("gripper_threshold"))).predict_chunk(obs, PROMPT).actions[:, 6]
    assert set(np.unique(sent)) <= {0.0, 1.0}
    np.testing.assert_array_equal(sent, (raw > 0.5).astype(sent.dtype))


def test_held_boxes_keep_the_first_calls_target_and_place_for_the_whole_instruction(policy, monkeypatch):
    """With ``hold_boxes`` every later chain of thought acts on the objects the first one named,
    while ``written_target`` still shows what the policy wrote; new words start afresh."""
    _drifting_reasoning(monkeypatch)
    held = VLARuntime(policy, RuntimeSettings(replan_every=1, rules=RuleSet.all().edit("holds", boxes=True)))
    first, later = held.predict_chunk(fake_obs(), PROMPT), held.predict_chunk(fake_obs(seed=1), PROMPT)
    assert later.reasoned and later.reasoning.target.box == first.reasoning.target.box
    assert later.reasoning.place.box == first.reasoning.place.box
    assert later.written_target.box != first.written_target.box
    fresh = held.predict_chunk(fake_obs(), "pick up the red cube")
    assert fresh.reasoning.target.box == fresh.written_target.box != first.reasoning.target.box
    free = VLARuntime(policy, RuntimeSettings(replan_every=1))
    a, b = free.predict_chunk(fake_obs(), PROMPT), free.predict_chunk(fake_obs(seed=1), PROMPT)
    assert a.reasoning.target.box != b.reasoning.target.box


def test_hold_place_keeps_the_first_place_box_and_lets_the_target_follow(policy, monkeypatch):
    """A bowl does not move while the object is carried to it: with ``hold_place`` every later
    reasoning call of the instruction reads the first call's PLACE box, while its TARGET box is
    the one that call wrote."""
    _drifting_reasoning(monkeypatch)
    held = VLARuntime(policy, RuntimeSettings(replan_every=1, rules=RuleSet.all().edit("holds", place=("in",))))
    first, later = held.predict_chunk(fake_obs(), PROMPT), held.predict_chunk(fake_obs(seed=1), PROMPT)
    assert later.reasoned and later.reasoning.place.box == first.reasoning.place.box
    assert later.reasoning.target.box == later.written_target.box != first.reasoning.target.box


def _drifting_reasoning(monkeypatch) -> None:
    """Each reasoning call of the runtime names its TARGET and PLACE boxes a little further right."""
    import policy.inference.runtime as runtime_module
    from tests.policy.conftest import sample_reasoning

    calls = iter(range(100))

    def drifting(_text):
        r, k = sample_reasoning(), next(calls)
        shift = lambda obj: obj.model_copy(update={"box": (obj.box[0] + 0.05 * k, obj.box[1], obj.box[2] + 0.05 * k, obj.box[3])})
        return r.model_copy(update={"target": shift(r.target), "place": shift(r.place)})

    monkeypatch.setattr(runtime_module, "parse_reasoning", drifting)


def test_a_turn_with_words_the_checkpoint_never_saw_is_not_fed_to_the_network(policy):
    """The side rule reads "the front one"; the network, which never saw "front", reads the
    instruction alone instead of an <unk> (that derailed the embedded checkpoint's reasoning)."""
    turn = [("the front or the back one?", "the front one")]
    assert "front" not in policy.tokenizer.get_vocab()
    settings = RuntimeSettings(rules=RuleSet.all().without("side_words"))
    plain = VLARuntime(policy, settings).predict_chunk(fake_obs(), PROMPT)
    unread = VLARuntime(policy, settings).predict_chunk(fake_obs(), PROMPT, turn)
    fed = VLARuntime(policy, RuntimeSettings(rules=RuleSet.all().without("side_words", "known_words"))).predict_chunk(fake_obs(), PROMPT, turn)
    assert unread.reasoning_text == plain.reasoning_text
    np.testing.assert_array_equal(unread.actions, plain.actions)
    assert not np.array_equal(fed.actions, plain.actions)
    known = [("which cube?", "the red one")]  # words it knows still reach it
    asked = VLARuntime(policy, settings).predict_chunk(fake_obs(), PROMPT, known)
    assert not np.array_equal(asked.actions, plain.actions)
