"""TabletopEnv follows the Gymnasium contract and is reproducible."""

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from sim.scene import SceneSpec
from sim.tabletop_env import TabletopEnv
from sim.tasks import TaskSpec


def test_passes_gymnasium_check_env() -> None:
    env = TabletopEnv(image_size=32, render_mode="rgb_array")
    check_env(env, skip_render_check=False)
    env.close()


def test_same_seed_gives_the_same_rollout() -> None:
    rollouts = []
    for _ in range(2):
        env = TabletopEnv(image_size=32)
        obs, info = env.reset(seed=7)
        frames = [obs["rgb"]]
        rng = np.random.default_rng(0)
        for _ in range(8):
            obs, _, _, _, info = env.step(rng.uniform(-1, 1, 7).astype(np.float32))
        frames.append(obs["rgb"])
        rollouts.append((info["task"], info["scene"], frames, obs["state"], info["object_positions"]))
        env.close()
    (t1, s1, f1, st1, p1), (t2, s2, f2, st2, p2) = rollouts
    assert t1 == t2 and s1 == s2
    assert all(np.array_equal(a, b) for a, b in zip(f1, f2))
    assert np.array_equal(st1, st2)
    assert all(np.array_equal(p1[k], p2[k]) for k in p1)


def test_given_scene_and_task_are_used(two_cubes_and_bowl: SceneSpec) -> None:
    env = TabletopEnv(image_size=32, max_episode_steps=3)
    task = TaskSpec(pick="a", place="c", relation="in")
    obs, info = env.reset(seed=0, options={"scene": two_cubes_and_bowl, "task": task})
    assert info["task"] == task and info["segmentation_labels"] == {0: "a", 1: "b", 2: "c"}
    assert set(np.unique(obs["segmentation"])) == {-1, 0, 1, 2}
    truncated = False
    for _ in range(3):
        _, reward, terminated, truncated, info = env.step(np.zeros(7, dtype=np.float32))
        assert reward == 0.0 and not terminated and not info["success"]
    assert truncated  # max_episode_steps reached
    env.close()


def test_state_only_env_has_no_images() -> None:
    env = TabletopEnv(images=False)
    obs, _ = env.reset(seed=1)
    assert set(obs) == {"state"}
    env.close()


def test_unknown_object_in_task_is_rejected(two_cubes_and_bowl: SceneSpec) -> None:
    env = TabletopEnv(images=False)
    with pytest.raises(KeyError):
        env.reset(options={"scene": two_cubes_and_bowl, "task": TaskSpec(pick="zzz")})
    env.close()


def test_explicit_no_task_never_succeeds(two_cubes_and_bowl: SceneSpec) -> None:
    env = TabletopEnv(images=False)
    _, info = env.reset(options={"scene": two_cubes_and_bowl, "task": None})
    assert info["task"] is None
    _, reward, terminated, _, info = env.step(np.zeros(7, dtype=np.float32))
    assert reward == 0.0 and not terminated and not info["success"]
    env.close()
