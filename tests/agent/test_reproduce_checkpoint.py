"""`make checkpoint` (scripts/reproduce_vla.sh): every stage of the embedded checkpoint's recipe,
run at toy size, ends in a checkpoint the runtime loads; a second run skips what finished."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGES = ["scenes", "pack", "1_base", "2_head", "3_finetune", "4_geometry_head", "5_finetune", "6_offsets_head",
          "7_namer"]


def reproduce(tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SMOKE": "1", "PY": sys.executable, "DATA": str(tmp_path / "data"),
           "OUT": str(tmp_path / "out"), "THREADS": "1"}
    return subprocess.run(["bash", str(ROOT / "scripts" / "reproduce_vla.sh")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1200)


@pytest.mark.slow
def test_the_recipe_runs_every_stage_to_a_loadable_checkpoint_and_resumes(tmp_path):
    from policy.model.checkpoint import load_checkpoint

    first = reproduce(tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    for stage in STAGES:
        assert f"== {stage}: " in first.stdout
    assert "done before, skipped" not in first.stdout
    policy = load_checkpoint(tmp_path / "out" / "vla")
    # The last stage's head reads the boxes and their offsets from the hand, through the demos' camera.
    assert policy.config.head_geometry and policy.config.geometry_camera is not None
    assert policy.namer is not None  # the second look at listed objects travels with it
    again = reproduce(tmp_path)
    assert again.returncode == 0
    assert again.stdout.count("done before, skipped") == len(STAGES)
