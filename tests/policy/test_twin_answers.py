"""The person's answer to "the left or the right one?" must decide which twin the policy acts on."""

from __future__ import annotations

import io

import numpy as np
import pytest

from policy.model.cot_format import format_prompt, format_reasoning, names_a_side, swap_side
from policy.training.dataset import DemoDataset, DemoTable, restate_side
from policy.model.normalize import NormStats
from policy.training.reasoning_eval import twin_answer_accuracy
from policy.inference.runtime import ChunkResult, VLARuntime
from policy.model.tokenizer import build_word_tokenizer
from policy.types import ReasonedObject, Reasoning

from tests.policy.conftest import SENTENCES, tiny_config

LEFT_BOX, RIGHT_BOX = (0.10, 0.40, 0.20, 0.50), (0.70, 0.40, 0.80, 0.50)
ASKED = format_prompt("pick up the red cube", [("the left or the right one?", "the left one")])
REWRITE = format_prompt("pick up the red cube on the left")
VAGUE = format_prompt("grab the red block")


def _twin_reasoning() -> Reasoning:
    left, right = ReasonedObject(name="red cube", box=LEFT_BOX), ReasonedObject(name="red cube", box=RIGHT_BOX)
    return Reasoning(task="pick up the red cube", plan=["reach the red cube"], visible=[left, right], target=left,
                     move="approach , forward , gripper open")


def _table(rows: int = 3) -> DemoTable:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.zeros((32, 32, 3), dtype=np.uint8)).save(buf, format="PNG")
    return DemoTable(episode=np.zeros(rows, dtype=np.int64), images=[buf.getvalue()] * rows,
                     state=np.zeros((rows, 8), dtype=np.float32), prompts=[[VAGUE, ASKED, REWRITE]] * rows,
                     reasoning=[format_reasoning(_twin_reasoning())] * rows,
                     actions=np.zeros((rows, 4, 7), dtype=np.float32), task=["pick"] * rows)


def test_side_words_are_found_and_swapped():
    assert names_a_side(ASKED) and names_a_side(REWRITE) and not names_a_side(VAGUE)
    assert swap_side(ASKED).endswith("A: the right one") and "or the right one?" in swap_side(ASKED)
    assert swap_side(REWRITE) == "pick up the red cube on the right"
    assert not names_a_side(format_prompt("put the red cube to the left of the green bowl"))
    depth = format_prompt("pick up the red cube", [("the front or the back one?", "the front one")])
    assert swap_side(depth).endswith("A: the back one")
    assert swap_side(format_prompt("pick up the red cube at the back")) == "pick up the red cube at the front"
    assert not names_a_side(format_prompt("put the red cube in front of the green bowl"))
    assert not names_a_side(format_prompt("put the red cube at the back of the green bowl"))
    assert restate_side(format_reasoning(_twin_reasoning()), "back").startswith("TASK: pick up the red cube at the back\n")


def test_twin_episodes_train_only_on_prompts_that_name_the_side():
    tok = build_word_tokenizer(SENTENCES + [VAGUE, ASKED, REWRITE])
    config = tiny_config(tok)
    rng = np.random.default_rng(0)
    stats = NormStats.fit(rng.normal(size=(50, 7)), rng.normal(size=(50, 8)))
    ds = DemoDataset(_table(), tok, config, stats)
    seen = {tok.decode(ds[i % 3]["enc"].input_ids, skip_special_tokens=True) for i in range(40)}
    assert seen and all(("left" in s) for s in seen)
    assert not any("grab" in s for s in seen)  # the vague paraphrase fits both twins: never drawn
    # Demos recorded before the TASK named the side get it restated from the prompts.
    assert "TASK : pick up the red cube on the left \n" in tok.decode(ds[0]["enc"].input_ids, skip_special_tokens=True)


def test_restating_the_side_touches_only_the_task_line_and_only_once():
    old = format_reasoning(_twin_reasoning())
    new = restate_side(old, "left")
    assert new.splitlines()[0] == "TASK: pick up the red cube on the left"
    assert new.splitlines()[1:] == old.splitlines()[1:]
    assert restate_side(new, "left") == new and restate_side(old, None) == old


def _scripted(follows_answer: bool):
    """Stands in for the network: writes the TARGET a rule picks from the prompt."""

    def predict_chunk(runtime, obs, instruction, dialogue=()):
        said_right = "right" in format_prompt(instruction, dialogue).replace("left or the right", "")
        box = RIGHT_BOX if follows_answer and said_right else LEFT_BOX
        reasoning = _twin_reasoning().model_copy(update={"target": ReasonedObject(name="red cube", box=box)})
        return ChunkResult(actions=np.zeros((4, 7)), reasoning_ids=[], reasoning_text="", reasoning=reasoning,
                           confidence=1.0, reasoned=True)

    return predict_chunk


@pytest.mark.parametrize("follows, asks, both", [(True, 1.0, 1.0), (False, 0.5, 0.0)])
def test_the_twin_probe_tells_a_policy_that_follows_the_answer_from_one_that_ignores_it(
        policy, monkeypatch, follows, asks, both):
    monkeypatch.setattr(VLARuntime, "predict_chunk", _scripted(follows))
    result = twin_answer_accuracy(policy, _table(), scenes=5)
    assert result == {"eval_twin_answer_acc": asks, "eval_twin_both_right": both, "eval_twin_scenes": 1}


def _twin_candidates(tokenizer, points=((0.45, 0.15), (0.45, -0.15))):
    """Two red cubes on the table at the robot's (x, y) ``points`` (default: y = +0.15 and
    -0.15), boxed through the sim camera."""
    from policy.model.cot_format import loc_tokens
    from sim.pybullet_camera import CameraConfig, camera_model

    cam = camera_model(CameraConfig())
    boxes = []
    for x, y in points:
        u, v = cam.project(np.array([[x, y, 0.025]]))[0] / (cam.width, cam.height)
        boxes.append((u - 0.03, v - 0.03, u + 0.03, v + 0.03))
    ids = [tokenizer(loc_tokens(b), add_special_tokens=False)["input_ids"] for b in boxes]
    return cam, ids


def test_the_persons_side_picks_the_twin_on_their_side_of_the_table(tokenizer):
    from policy.inference.box_pointer import listed_twins, on_named_side

    camera, (robots_left, robots_right) = _twin_candidates(tokenizer)
    both = [robots_left, robots_right]
    # The person stands across the table: their left is the robot's right.
    assert on_named_side(tokenizer, both, "left", camera) == [robots_right]
    assert on_named_side(tokenizer, both, "right", camera) == [robots_left]
    assert on_named_side(tokenizer, both, "left", camera, viewpoint="robot") == [robots_left]
    # Nothing said, no calibration (older checkpoints), or one candidate: the model's score decides.
    assert on_named_side(tokenizer, both, None, camera) == both
    assert on_named_side(tokenizer, both, "left", None) == both
    assert on_named_side(tokenizer, [robots_left], "right", camera) == [robots_left]
    text = format_reasoning(_twin_reasoning())
    assert listed_twins(text[: text.index("TARGET: red cube") + len("TARGET: red cube")])
    single = format_reasoning(_twin_reasoning().model_copy(update={"visible": _twin_reasoning().visible[:1]}))
    assert not listed_twins(single[: single.index("TARGET: red cube") + len("TARGET: red cube")])


def test_front_and_back_pick_the_twin_along_the_table(tokenizer):
    """Twins one behind the other: the person's front is the far side from the robot."""
    from policy.inference.box_pointer import on_named_side

    camera, (near_robot, far_from_robot) = _twin_candidates(tokenizer, ((0.47, 0.04), (0.66, 0.04)))
    both = [near_robot, far_from_robot]
    assert on_named_side(tokenizer, both, "front", camera) == [far_from_robot]
    assert on_named_side(tokenizer, both, "back", camera) == [near_robot]
    assert on_named_side(tokenizer, both, "front", camera, viewpoint="robot") == [near_robot]
    assert on_named_side(tokenizer, both, "back", camera, viewpoint="robot") == [far_from_robot]
