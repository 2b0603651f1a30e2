"""TARGET/PLACE boxes pointed at a listed VISIBLE OBJECTS box, chosen by the model's likelihood."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import DynamicCache

from policy.inference.box_pointer import candidate_box, candidate_boxes, choose_box, keep_tracked, pointed_slot
from policy.model.cot_format import format_reasoning, loc_tokens, open_box_slot
from policy.model.pixels import image_to_tensor
from policy.inference.runtime import VLARuntime
from policy.types import ReasonedObject

from tests.policy.conftest import BOX_A, BOX_B, fake_obs, sample_reasoning

PROMPT = "put the red cube in the green bowl"
BOX_C = (0.60, 0.10, 0.80, 0.30)


def _partial(upto: str) -> str:
    """The sample reasoning with a second red cube listed, cut right after ``upto``."""
    r = sample_reasoning()
    r = r.model_copy(update={"visible": [*r.visible, ReasonedObject(name="red cube", box=BOX_C)]})
    text = format_reasoning(r)
    return text[: text.index(upto) + len(upto)]


def test_only_a_target_or_place_box_is_pointed():
    assert open_box_slot(_partial("TARGET: red cube")) == "red cube"
    assert open_box_slot(_partial("; in green bowl")) == "green bowl"
    assert open_box_slot(_partial("VISIBLE OBJECTS: red cube")) is None  # the list itself is free
    assert open_box_slot(_partial("TARGET: red cube " + loc_tokens(BOX_A))) is None  # box written
    assert open_box_slot(_partial("; in")) is None  # no name yet
    assert open_box_slot(_partial("TARGET:")) is None


def test_candidates_are_the_listed_boxes_of_that_name_and_the_place_is_never_the_target(tokenizer):
    def as_ids(box):
        return tokenizer(loc_tokens(box), add_special_tokens=False)["input_ids"]

    assert candidate_boxes(tokenizer, _partial("TARGET: red cube")) == [as_ids(BOX_A), as_ids(BOX_C)]
    assert candidate_boxes(tokenizer, _partial("; in green bowl")) == [as_ids(BOX_B)]
    # A PLACE name nobody listed: every listed box but the TARGET's own.
    place_text = _partial("; in green bowl").replace("; in green bowl", "; in blue bowl")
    assert candidate_boxes(tokenizer, place_text) == [as_ids(BOX_B), as_ids(BOX_C)]
    assert candidate_boxes(tokenizer, _partial("PLAN:")) == []


def test_a_later_call_keeps_the_object_a_slot_got_before_unless_it_moved_away(tokenizer):
    text = _partial("TARGET: red cube")
    both = candidate_boxes(tokenizer, text)  # the two listed red cubes, A and C
    assert pointed_slot(text) == "TARGET" and pointed_slot(_partial("; in green bowl")) == "PLACE"
    np.testing.assert_allclose([candidate_box(tokenizer, ids) for ids in both], [BOX_A, BOX_C], atol=1e-3)
    nudged_c = (0.61, 0.11, 0.81, 0.31)  # where C was boxed at the previous call
    assert keep_tracked(tokenizer, both, nudged_c, 0.5) == [both[1]]
    assert keep_tracked(tokenizer, both, None, 0.5) == both  # first call: every candidate
    assert keep_tracked(tokenizer, both, (0.0, 0.9, 0.1, 1.0), 0.5) == both  # lifted away: every candidate
    # A slot that holds its object when it is not listed (a PLACE under the hand) keeps its box.
    hidden = (0.30, 0.60, 0.40, 0.70)
    held = keep_tracked(tokenizer, both, hidden, 0.5, hold_lost=True)
    assert len(held) == 1 and np.allclose(candidate_box(tokenizer, held[0]), hidden, atol=1e-3)
    assert keep_tracked(tokenizer, both, nudged_c, 0.5, hold_lost=True) == [both[1]]  # listed: as before


@torch.no_grad()
def test_the_box_written_is_the_candidate_the_model_scores_highest(policy, tokenizer):
    model, rt = policy.model, VLARuntime(policy)
    obs = fake_obs(seed=1)
    pixels = image_to_tensor(obs["rgb"], policy.config.image_size)[None]
    state = torch.from_numpy(policy.stats.normalize_state(obs["state"]))[None]
    partial = tokenizer(_partial("TARGET: red cube"), add_special_tokens=False)["input_ids"]
    candidates = candidate_boxes(tokenizer, _partial("TARGET: red cube"))

    # The runtime's way: prefix and partial reasoning on a KV cache, candidates scored on it.
    ids, types = rt._prefix(PROMPT)
    cache = DynamicCache()
    model.run_backbone(model.embed(ids, pixels, state), types, None, cache)
    hidden = model.run_backbone(model.embed(torch.tensor([partial]), None, None), torch.ones(1, len(partial), dtype=torch.long), None, cache)
    choice = choose_box(model, cache, model.backbone.lm_head(hidden[:, -1]), candidates)

    # Reference: one full forward per candidate, no cache.
    scores, last_logits = [], []
    for cand in candidates:
        full, full_types = rt._prefix(PROMPT, partial + cand)
        logits = model(input_ids=full, token_type_ids=full_types, pixel_values=pixels, state=state).logits[0]
        logp = torch.log_softmax(logits.float(), dim=-1)
        n = full.shape[1]
        scores.append(sum(float(logp[n - len(cand) - 1 + k, tok]) for k, tok in enumerate(cand)))
        last_logits.append(logits[-1])
    best = int(np.argmax(scores))
    assert choice.token_ids == candidates[best]
    assert choice.posterior == pytest.approx(float(torch.softmax(torch.tensor(scores), 0)[best]), abs=1e-4)
    # The cache ends right after the chosen box: the decoder continues from the right place.
    assert cache.get_seq_length() == ids.shape[1] + len(partial) + len(candidates[best])
    torch.testing.assert_close(choice.next_logits[0], last_logits[best], atol=1e-4, rtol=1e-4)


def test_twin_scenes_are_scored_with_their_clarifying_exchange():
    from policy.training.reasoning_eval import unambiguous_prompt

    r = sample_reasoning()
    prompts = ["put the red cube in the green bowl", "put the cube in the green bowl | Q: which cube? A: the red one"]
    assert unambiguous_prompt(prompts, r) == prompts[0]
    twin = r.model_copy(update={"visible": [*r.visible, ReasonedObject(name="red cube", box=BOX_C)]})
    assert unambiguous_prompt(prompts, twin) == prompts[1]


def test_a_steering_box_snaps_to_the_policys_own_box_of_that_object():
    from policy.inference.box_pointer import snap_to_listed

    listed = [ReasonedObject(name="red cube", box=BOX_A), ReasonedObject(name="red cube", box=BOX_C)]
    inner_c = (0.63, 0.13, 0.76, 0.26)  # perception's tighter box of the second cube
    assert snap_to_listed(inner_c, listed, min_iou=0.3) == BOX_C
    assert snap_to_listed(BOX_B, listed, min_iou=0.3) == BOX_B  # nothing listed there: kept as given
    assert snap_to_listed(inner_c, [], min_iou=0.3) == inner_c


def test_a_twin_is_scored_with_the_exchange_that_says_which_side_not_one_about_the_bowl():
    """Held-out scene 500104: two green balls, and the first clarified prompt asked about the bowl;
    the TARGET was scored against words that did not say which ball."""
    from policy.training.reasoning_eval import unambiguous_prompt

    r = sample_reasoning()
    twin = r.model_copy(update={"visible": [*r.visible, ReasonedObject(name="red cube", box=BOX_C)]})
    prompts = ["put the red cube in the bowl | Q: which bowl, the green one or the cyan one? A: the green one",
               "move the red cube into the green bowl | Q: the left or the right one? A: the right one"]
    assert unambiguous_prompt(prompts, twin) == prompts[1]
