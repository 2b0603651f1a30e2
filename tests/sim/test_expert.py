"""The privileged scripted expert completes every task kind (a few seeds; more under -m slow)."""

import numpy as np
import pytest

from sim.expert import ScriptedExpert
from sim.tabletop_env import TabletopEnv
from sim.task_sampling import TASK_KINDS, sample_scene_and_task


def run_expert(env: TabletopEnv, seed: int, kind: str) -> tuple[bool, str]:
    scene, task = sample_scene_and_task(np.random.default_rng(seed), kind)
    obs, info = env.reset(seed=seed, options={"scene": scene, "task": task})
    expert = ScriptedExpert(task, scene)
    while True:
        for action in expert.next_actions(obs["state"], env.object_poses()):
            obs, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                return bool(info["success"]), f"seed {seed} {task}: {info['success_reason']}"


@pytest.mark.parametrize("kind", TASK_KINDS)
def test_expert_succeeds_on_a_sampled_scene(kind: str) -> None:
    env = TabletopEnv(images=False)
    ok, why = run_expert(env, 1000, kind)
    env.close()
    assert ok, why


@pytest.mark.slow
@pytest.mark.parametrize("kind", TASK_KINDS)
def test_expert_succeeds_on_ten_scenes(kind: str) -> None:
    env = TabletopEnv(images=False)
    results = [run_expert(env, seed, kind) for seed in range(2000, 2010)]
    env.close()
    failures = [why for ok, why in results if not ok]
    assert len(failures) <= 1, failures


def test_expert_leaves_the_arm_still_when_done() -> None:
    env = TabletopEnv(images=False)
    scene, task = sample_scene_and_task(np.random.default_rng(5), "pick")
    obs, _ = env.reset(options={"scene": scene, "task": task})
    expert = ScriptedExpert(task, scene)
    for _ in range(40):
        if expert.done:
            break
        for action in expert.next_actions(obs["state"], env.object_poses()):
            obs, *_ = env.step(action)
    assert expert.done
    chunk = expert.next_actions(obs["state"], env.object_poses())
    assert np.allclose(chunk[:, :6], 0.0) and np.all(chunk[:, 6] == 1.0)  # hold, keep gripping
    env.close()


def test_a_take_over_expert_finishes_the_task_from_where_another_left_the_arm() -> None:
    """DAgger labels (agent/commands/dagger.py): holding the object in the air it keeps the hand
    closed and carries on; with the hand closed on nothing it opens and goes back for it; from
    either state it completes the put-down."""
    env = TabletopEnv(images=False)
    scene, task = sample_scene_and_task(np.random.default_rng(7), "place_in")
    obs, _ = env.reset(seed=7, options={"scene": scene, "task": task})
    first = ScriptedExpert(task, scene, chunk_size=1)
    while first.phase != "carry":  # the object is lifted and held
        obs, *_ = env.step(first.next_actions(obs["state"], env.object_poses())[0])
    held = ScriptedExpert(task, scene, chunk_size=8, take_over=True)
    chunk = held.next_actions(obs["state"], env.object_poses())
    assert np.all(chunk[:, 6] == 1.0)  # never drops it
    obs, *_ = env.step(chunk[0])
    success = False
    for _ in range(40):
        for action in held.next_actions(obs["state"], env.object_poses()):
            obs, _, terminated, truncated, info = env.step(action)
            success = success or terminated
        if success:
            break
    assert success, info["success_reason"]

    # The hand closed above nothing: a missed grasp.
    obs, _ = env.reset(seed=7, options={"scene": scene, "task": task})
    for _ in range(6):
        obs, *_ = env.step(np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0], dtype=np.float32))
    missed = ScriptedExpert(task, scene, chunk_size=8, take_over=True)
    chunk = missed.next_actions(obs["state"], env.object_poses())
    assert missed.phase in ("approach", "descend") and np.all(chunk[:, 6] == 0.0)
    env.close()
