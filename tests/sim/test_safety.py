"""The safety envelope clips what the arm is asked to do, and reports what it really did."""

import numpy as np

from sim.safety import SafetyEnvelope


def test_large_step_is_clipped_to_max_translation_and_rotation() -> None:
    env = SafetyEnvelope()
    sent = env.clip(np.array([0.5, -0.5, 0.01, 1.0, -1.0, 1.0, 3.0]), np.array([0.5, 0.0, 0.2]))
    assert np.allclose(sent[:3], [env.max_translation, -env.max_translation, 0.01], atol=1e-6)
    assert np.allclose(sent[3:6], [env.max_rotation, -env.max_rotation, env.max_rotation], atol=1e-6)
    assert sent[6] == 1.0


def test_workspace_box_stops_motion_at_the_boundary() -> None:
    env = SafetyEnvelope()
    at_floor = np.array([0.5, 0.0, env.workspace_min[2]])
    sent = env.clip(np.array([0.0, 0.0, -0.03, 0, 0, 0, 0]), at_floor)
    assert sent[2] == 0.0  # cannot push into the table
    near_edge = np.array([env.workspace_max[0] - 0.01, 0.0, 0.2])
    sent = env.clip(np.array([0.03, 0.0, 0.0, 0, 0, 0, 0]), near_edge)
    assert env.contains(near_edge + sent[:3])
    assert np.isclose(sent[0], 0.01, atol=1e-6)


def test_inside_the_envelope_is_unchanged_and_nan_means_hold() -> None:
    env = SafetyEnvelope()
    a = np.array([0.01, -0.02, 0.005, 0.0, 0.0, 0.05, 0.3], dtype=np.float32)
    assert np.allclose(env.clip(a, np.array([0.5, 0.0, 0.2])), a)
    held = env.clip(np.array([np.nan] * 7), np.array([0.5, 0.0, 0.2]))
    assert np.all(held == 0.0)


def test_yaw_cannot_leave_its_range() -> None:
    env = SafetyEnvelope()
    sent = env.clip(np.array([0, 0, 0, 0, 0, 0.15, 0]), np.array([0.5, 0.0, 0.2]), yaw=env.yaw_range[1] - 0.05)
    assert np.isclose(sent[5], 0.05, atol=1e-6)
