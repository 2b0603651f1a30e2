"""Connecting the simulator prints nothing on stdout (issue 28, defect 9: pybullet's ``argv[0]=``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_session_s_simulator_prints_no_banner_on_stdout() -> None:
    code = ("from sim.tabletop_env import TabletopEnv\n"
            "env = TabletopEnv(image_size=32); env.reset(seed=0); env.close()\n"
            "env = TabletopEnv(image_size=32); env.reset(seed=1); env.close()\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "ok\n"
