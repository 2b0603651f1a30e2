"""The server runs on a GPU box with only the policy stack: no agent, perception, sim or speech."""

from __future__ import annotations

import subprocess
import sys

BLOCKED = ["langgraph", "pybullet", "pybullet_data", "whisper", "sounddevice", "piper", "gymnasium"]


def test_server_imports_without_the_agent_sim_and_speech_stacks():
    code = (
        "import sys\n"
        f"for name in {BLOCKED!r}: sys.modules[name] = None\n"
        "import serving.server, serving.policy_backend, serving.commands.serve\n"
        "leaked = [m for m in sys.modules if m.split('.')[0] in ('agent', 'perception', 'sim')]\n"
        "assert not leaked, leaked\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]
