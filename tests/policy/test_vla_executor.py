"""VLAExecutor: the policy behind the agent's Executor protocol (reset / select_action / done)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest

from agent.context import ActTarget
from agent.vla_executor import VLAExecutor, pair_dialogue
from perception.types import PerceivedObject
from policy.inference.rules import RuleSet
from policy.inference.runtime import RuntimeSettings, VLARuntime

from tests.policy.conftest import fake_obs


@dataclass
class _Target:
    instruction: str


def _hand(z: float = 0.1, opening: float = 1.0, command: float = 0.0, seed: int = 0) -> dict:
    """A fake frame with the arm's proprio state set: grasp point at 0.5, 0, z; fingers as given."""
    obs = fake_obs(seed=seed)
    obs["state"] = np.array([0.5, 0.0, z, 0.0, 0.0, 0.0, opening, command], dtype=np.float32)
    return obs


def _spy(runtime: VLARuntime) -> list[str]:
    """The instructions the executor prompts the policy with, in order."""
    said: list[str] = []
    predict = runtime.predict_chunk

    def recorded(obs, instruction, turns):
        said.append(instruction)
        return predict(obs, instruction, turns)

    runtime.predict_chunk = recorded  # type: ignore[method-assign]
    return said


def _after_the_motion(executor: VLAExecutor, z: float = 0.1) -> tuple[list[str], list[float]]:
    """Drive the scripted end of a motion on a fake hand: the texts and the heights it passed."""
    texts, heights = [], [z]
    for _ in range(60):
        out = executor.select_action(_hand(z), "", [])
        if executor.done:
            break
        texts.append(out.raw_text)
        z += float(out.actions[:, 2].sum())
        heights.append(z)
    return texts, heights


def test_executor_serves_chunks_then_rises_clear_goes_home_and_finishes(policy):
    runtime = VLARuntime(policy, RuntimeSettings(replan_every=2))
    executor = VLAExecutor(runtime, max_steps=2 * policy.config.chunk_size)
    executor.reset(_Target("pick up the red cube"))
    first = executor.select_action(_hand(), "ignored: the target's instruction wins", [])  # home: z 0.1
    assert first.actions.shape == (policy.config.chunk_size, 7) and not executor.done
    executor.select_action(_hand(z=0.12, seed=1), "", [])  # max_steps reached: the policy's motion is over
    texts, heights = _after_the_motion(executor, z=0.12)
    # The open hand rises straight up, clear of what it set down, then goes home (out of the look).
    assert executor.done and set(texts) == {"[step back]"} and max(heights) > 0.17
    assert abs(heights[-1] - 0.1) < 0.01
    assert executor.select_action(_hand(heights[-1]), "", []).actions.shape == (0, 7)
    executor.reset(_Target("pick up the red cube"))
    assert not executor.done


def test_without_going_home_the_step_back_only_rises(policy):
    runtime = VLARuntime(policy, RuntimeSettings(replan_every=2))
    executor = VLAExecutor(runtime, max_steps=2 * policy.config.chunk_size, step_back_home=False)
    executor.reset(_Target("pick up the red cube"))
    executor.select_action(_hand(), "", [])
    executor.select_action(_hand(z=0.12, seed=1), "", [])
    texts, heights = _after_the_motion(executor, z=0.12)
    assert executor.done and set(texts) == {"[step back]"} and heights[-1] > 0.19


def _object(index: int, color: str, shape: str, x: float, y: float) -> PerceivedObject:
    return PerceivedObject(index=index, color=color, shape=shape, size="small", position=(x, y, 0.02),
                           box=(10, 10, 14, 14), extent=0.04, height=0.04)


def test_a_placement_closer_than_any_demonstration_is_picked_up_first_then_placed(policy):
    runtime = VLARuntime(policy)
    said = _spy(runtime)
    executor = VLAExecutor(runtime, max_steps=policy.config.chunk_size)
    red, blue = _object(1, "red", "cube", 0.50, 0.0), _object(2, "blue", "cube", 0.56, 0.0)  # 2 cm apart
    target = ActTarget(pick=red, place=blue, relation="on", instruction="put the red cube on the blue cube")
    executor.reset(target)
    holding = _hand(z=0.15, opening=0.4, command=1.0)  # the pick stage ends with the cube in the hand
    for _ in range(6):
        executor.select_action(holding, "", [])
    assert said[0] == "pick up the red cube" and said[-1] == "put the red cube on the blue cube"
    far = replace(target, place=_object(2, "blue", "cube", 0.70, 0.0))
    said.clear()
    executor.reset(far)
    executor.select_action(_hand(z=0.15), "", [])  # an empty hand where the first motion began: no homing
    assert said == ["put the red cube on the blue cube"]  # as far apart as the demos: one motion


@pytest.mark.parametrize("words, held, after", [
    # a cube that slips out: held (opening 0.4, closed), then closed on nothing
    ("pick up the red cube", dict(z=0.1, opening=0.4, command=1.0), dict(z=0.1, opening=0.0, command=1.0)),
    # a put-down: carrying it, then let go on top
    ("put the red cube on the blue cube", dict(z=0.1, opening=0.5, command=1.0), dict(z=0.08, opening=0.6, command=0.0)),
], ids=["slips_out", "lets_go"])
def test_the_hand_losing_what_it_held_ends_the_motion_without_asking_the_policy_again(policy, words, held, after):
    runtime = VLARuntime(policy)
    said = _spy(runtime)
    executor = VLAExecutor(runtime, max_steps=10 * policy.config.chunk_size)
    executor.reset(_Target(words))
    executor.select_action(_hand(**held), "", [])
    out = executor.select_action(_hand(**after), "", [])
    assert len(said) == 1 and out.raw_text == "[step back]"


def test_dialogue_lines_pair_into_question_and_answer():
    lines = ["put the cube in the bowl", "The left or the right one?", "the right one", "I'll put it there."]
    assert pair_dialogue(lines) == [("The left or the right one?", "the right one")]


@dataclass
class _SpokenTarget:
    instruction: str
    viewpoint: str


def test_the_side_words_of_the_agents_instruction_follow_the_scenes_viewpoint(policy):
    runtime = VLARuntime(policy)
    executor = VLAExecutor(runtime)
    executor.reset(_SpokenTarget("pick up the red cube on the left", viewpoint="robot"))
    assert runtime.settings.rules.get("side_words").viewpoint == "robot"
    executor.reset(_SpokenTarget("pick up the red cube on the left", viewpoint="user"))
    assert runtime.settings.rules.get("side_words").viewpoint == "user"
    off = VLARuntime(policy, RuntimeSettings(rules=RuleSet.all().without("side_words")))
    VLAExecutor(off).reset(_SpokenTarget("pick up the red cube on the left", viewpoint="robot"))
    assert not off.settings.rules.on("side_words")  # switched off stays off


def test_with_release_ends_off_the_policy_is_asked_on_after_letting_go(policy):
    runtime = VLARuntime(policy)
    said = _spy(runtime)
    executor = VLAExecutor(runtime, max_steps=10 * policy.config.chunk_size, release_ends=False)
    executor.reset(_Target("put the red cube on the blue cube"))
    executor.select_action(_hand(z=0.1, opening=0.5, command=1.0), "", [])
    executor.select_action(_hand(z=0.08, opening=0.6, command=0.0), "", [])
    assert len(said) == 2
