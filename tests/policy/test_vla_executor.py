"""VLAExecutor: the policy behind the agent's Executor protocol (reset / select_action / done)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agent.vla_executor import VLAExecutor, pair_dialogue
from policy.runtime import RuntimeSettings, VLARuntime

from tests.policy.conftest import fake_obs


@dataclass
class _Target:
    instruction: str


def test_executor_serves_chunks_then_finishes_and_returns_nothing(policy):
    runtime = VLARuntime(policy, RuntimeSettings(replan_every=2))
    executor = VLAExecutor(runtime, max_steps=2 * policy.config.chunk_size)
    executor.reset(_Target("pick up the red cube"))
    first = executor.select_action(fake_obs(), "ignored: the target's instruction wins", [])
    assert first.actions.shape == (policy.config.chunk_size, 7) and not executor.done
    executor.select_action(fake_obs(seed=1), "", [])
    assert executor.done  # max_steps reached
    assert executor.select_action(fake_obs(), "", []).actions.shape == (0, 7)
    executor.reset(_Target("pick up the red cube"))
    assert not executor.done


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
    assert runtime.settings.side_words == "robot"
    executor.reset(_SpokenTarget("pick up the red cube on the left", viewpoint="user"))
    assert runtime.settings.side_words == "user"
    off = VLARuntime(policy, RuntimeSettings(side_words=None))
    VLAExecutor(off).reset(_SpokenTarget("pick up the red cube on the left", viewpoint="robot"))
    assert off.settings.side_words is None  # switched off stays off
