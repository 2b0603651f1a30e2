"""Chain-of-thought text: PaliGemma loc tokens, round trip through text and the tokenizer."""

from __future__ import annotations

import pytest

from policy.model.cot_format import box_iou, format_prompt, format_reasoning, loc_tokens, parse_loc_tokens, parse_reasoning
from policy.model.tokenizer import decode_text, encode_example

from tests.policy.conftest import BOX_A, sample_reasoning


def test_loc_tokens_are_y0_x0_y1_x1_over_1024_bins():
    assert loc_tokens((0.0, 0.5, 1.0, 1.0)) == "<loc0512><loc0000><loc1023><loc1023>"
    assert parse_loc_tokens(loc_tokens(BOX_A)) == pytest.approx(BOX_A, abs=1e-3)


def test_reasoning_round_trips_through_text_and_tokenizer(tokenizer):
    r = sample_reasoning()
    enc = encode_example(tokenizer, 4, format_prompt("put the red cube in the green bowl"), format_reasoning(r))
    suffix = [i for i, t in zip(enc.input_ids, enc.token_type_ids) if t == 1]
    parsed = parse_reasoning(decode_text(tokenizer, suffix))
    assert parsed.task == r.task and parsed.plan == r.plan and parsed.move == r.move
    assert [o.name for o in parsed.visible] == ["red cube", "green bowl"]
    assert parsed.target.name == "red cube" and box_iou(parsed.target.box, BOX_A) > 0.98
    assert parsed.place.name == "green bowl" and parsed.relation == "in"


def test_every_field_is_tagged_and_newline_is_a_token(tokenizer):
    text = format_reasoning(sample_reasoning())
    for tag in ("TASK:", "PLAN:", "VISIBLE OBJECTS:", "TARGET:", "MOVE:"):
        assert tag in text
    assert tokenizer.convert_tokens_to_ids("\n") != tokenizer.unk_token_id
    assert tokenizer("a\nb", add_special_tokens=False)["input_ids"][1] == tokenizer.convert_tokens_to_ids("\n")


def test_garbage_parses_to_empty_reasoning_without_raising():
    r = parse_reasoning("TARGET: red <loc0001> MOVE")
    assert r.target is None and r.visible == []


def test_dialogue_is_folded_into_the_prompt():
    p = format_prompt("Put the red cube in the bowl", [("The left or the right one?", "the right one")])
    assert p == "put the red cube in the bowl | Q: the left or the right one? A: the right one"
