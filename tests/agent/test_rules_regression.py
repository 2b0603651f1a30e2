"""With every runtime rule on, the rules-as-parts runtime sends exactly the actions the inline one did.

``tests/policy/data/rollout_rules_all_*.npz`` hold the actions of two eval episodes (indices
11000 "on" and 11005 "in" with twins and an unknown clarifying word: pointing, tracking, holds,
side words, known words, phase gate, retreat, gripper threshold and namer all act) recorded with
the runtime's defaults before the rules became named parts. ``RuleSet.none()`` must differ.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[1] / "policy" / "data"


def rollout(policy, env, index: int, steps: int, rules) -> np.ndarray:
    """(steps, 7) actions of eval episode ``index`` (seed 2 * index + 1), cut at ``steps``."""
    from agent.commands.collect import sample_episode
    from policy.training.instructions import TaskWords, eval_prompt
    from policy.inference.runtime import RuntimeSettings, VLARuntime

    spec = sample_episode(index, 2 * index + 1, ("pick", "place_in", "place_on")[index % 3], 4, 0.25)
    words = TaskWords(pick=spec.task.pick, place=spec.task.place, relation=spec.task.relation)
    instruction, dialogue = eval_prompt(spec.scene, words)
    runtime = VLARuntime(policy, RuntimeSettings(rules=rules))
    obs, _ = env.reset(seed=spec.seed, options={"scene": spec.scene, "task": spec.task})
    sent: list[np.ndarray] = []
    while len(sent) < steps:
        chunk = runtime.predict_chunk(obs, instruction, dialogue)
        for action in chunk.actions[: runtime.execute_steps]:
            sent.append(np.asarray(action, dtype=np.float32))
            obs, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated or len(sent) >= steps:
                return np.stack(sent)
    return np.stack(sent)


@pytest.mark.slow
@pytest.mark.parametrize("index", [11000, 11005])
def test_all_rules_reproduce_the_recorded_rollout(policy_in_sim, index: int) -> None:
    from policy.inference.rules import RuleSet

    policy, env = policy_in_sim
    recorded = np.load(DATA / f"rollout_rules_all_{index}.npz")["actions"]
    np.testing.assert_array_equal(rollout(policy, env, index, len(recorded), RuleSet.all()), recorded)


@pytest.mark.slow
def test_the_network_alone_acts_differently(policy_in_sim) -> None:
    from policy.inference.rules import RuleSet

    policy, env = policy_in_sim
    recorded = np.load(DATA / "rollout_rules_all_11005.npz")["actions"]
    alone = rollout(policy, env, 11005, 40, RuleSet.none())
    assert not np.array_equal(alone, recorded[: len(alone)])
