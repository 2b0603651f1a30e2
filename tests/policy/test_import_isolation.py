"""policy/ must import on a GPU box without langgraph, pybullet or whisper."""

from __future__ import annotations

import subprocess
import sys

BLOCKED = ["langgraph", "pybullet", "pybullet_data", "whisper", "sounddevice", "piper", "gymnasium"]
MODULES = ["policy.config", "policy.modeling", "policy.cot_format", "policy.tokenizer", "policy.normalize",
           "policy.checkpoint", "policy.lora", "policy.dataset", "policy.training", "policy.runtime",
           "policy.instructions", "policy.commands.train", "policy.motion_eval", "policy.head_refit",
           "policy.reasoning_eval", "policy.structured_init", "policy.features", "policy.box_pointer"]


def test_policy_imports_with_sim_agent_and_speech_stacks_blocked():
    code = (
        "import sys\n"
        f"for name in {BLOCKED!r}: sys.modules[name] = None  # import of these now raises\n"
        f"for mod in {MODULES!r}: __import__(mod)\n"
        "leaked = [m for m in sys.modules if m.split('.')[0] in ('agent', 'perception')]\n"
        "assert not leaked, leaked\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")
