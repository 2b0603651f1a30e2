"""The learned policy lets go of what it stacked: the open hand rises off it.

Named regression, development seed 65 of `main.py eval` (episode 32, "put the cyan ball on the
red cube"; the seed the retreat was found on, so it is no measure of the rule): the network carries the
ball onto the cube and opens the hand, but a finger still touches the ball, and the network
holds the hand there ("done , hold"); the task is never done. With the runtime's retreat
(policy/inference/release_retreat.py) the open hand rises 8 cm and the ball stays on the cube.
"""

from __future__ import annotations

import pytest


@pytest.mark.slow
@pytest.mark.regression
def test_the_policy_lifts_its_open_hand_off_the_ball_it_put_on_the_cube(policy_in_sim) -> None:
    from agent.commands.collect import sample_episode
    from agent.commands.evaluate import run_episode
    from policy.training.instructions import TaskWords, eval_prompt
    from policy.inference.rules import RuleSet
    from policy.inference.runtime import RuntimeSettings, VLARuntime

    policy, env = policy_in_sim
    spec = sample_episode(32, 65, "place_on", 4, 0.25)
    env.reset(seed=spec.seed, options={"scene": spec.scene, "task": spec.task})
    words = TaskWords(pick=spec.task.pick, place=spec.task.place, relation=spec.task.relation)
    assert eval_prompt(spec.scene, words)[0] == "put the cyan ball on the red cube"
    # Without the retreat: the ball is put on the cube, the hand opens and stays on it.
    held = run_episode(env, VLARuntime(policy, RuntimeSettings(rules=RuleSet.all().without("release_retreat"))), spec, 88)
    assert not held["success"] and held["end_reason"] == "object still in the gripper"
    assert not held["end_gripper_closed"] and held["retreat_chunks"] == 0
    # With it (the default): the open hand rises, and the ball rests on the cube.
    result = run_episode(env, VLARuntime(policy, RuntimeSettings()), spec, 160)
    assert result["success"] and result["end_reason"] == "on top of the reference"
    assert result["retreat_chunks"] >= 1 and result["steps"] < 88
