"""`main.py dagger`: the embedded policy drives, the expert labels, rows load as demos."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from agent.commands import dagger
from policy.training.dataset import load_demo_camera, load_demos

CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "vla"


def run(tmp_path: Path, *extra: str) -> int:
    parser = argparse.ArgumentParser()
    dagger.add_arguments(parser)
    return dagger.run(parser.parse_args(["--checkpoint", str(CHECKPOINT), "--episodes", "1", "--max-steps", "12",
                                         "--out", str(tmp_path), *extra]))


def test_policy_driven_rows_carry_the_policys_reasoning_and_the_experts_chunk(tmp_path, capsys):
    assert run(tmp_path) == 0
    table = load_demos(tmp_path)
    assert len(table) == 6  # 12 steps, every second one
    assert table.actions.shape == (6, 8, 7)
    assert all(r.startswith("TASK:") and "MOVE:" in r for r in table.reasoning)  # the policy's own words
    assert np.all(np.isin(table.actions[..., 6], (0.0, 1.0)))  # the expert's open/closed commands
    assert load_demo_camera(tmp_path) is not None  # the offsets refit needs the camera
    # Resumable: the episode already there is not driven again.
    assert run(tmp_path) == 0
    assert "wrote 0 episodes" in capsys.readouterr().out


def test_truth_reasoning_rows_name_the_experts_phase_for_the_gripper_the_arm_reports(tmp_path):
    from policy.inference.phase_gate import obeys_phase_table

    # Episode 500042: the policy closes the hand beside the cube at step 18, and the take-over
    # expert reopens it to approach again, a phase the demos never show with a closed hand (the
    # same 9 of 12 rows at 1 or 2 threads and with ATen's AVX2 or plain kernels; a retrained
    # checkpoint needs another such episode). The network drives alone (`--rename off`): with its
    # object namer the policy drives this episode differently and the hand is never reopened.
    args = ("--start", "500042", "--max-steps", "24", "--rename", "off")
    assert run(tmp_path / "policy", *args) == 0
    assert len(load_demos(tmp_path / "policy")) == 12  # the policy's own words: every visited row
    assert run(tmp_path / "truth", *args, "--reasoning", "truth") == 0
    table = load_demos(tmp_path / "truth")
    assert 0 < len(table) < 12  # the reopening rows are left out
    assert all(obeys_phase_table(r, s) for r, s in zip(table.reasoning, table.state))
