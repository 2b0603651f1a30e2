"""policy/ must import on a GPU box without langgraph, pybullet or whisper."""

from __future__ import annotations

import subprocess
import sys

BLOCKED = ["langgraph", "pybullet", "pybullet_data", "whisper", "sounddevice", "piper", "gymnasium"]
MODULES = ["policy.model.config", "policy.model.modeling", "policy.model.cot_format", "policy.model.tokenizer", "policy.model.normalize",
           "policy.model.checkpoint", "policy.model.lora", "policy.training.dataset", "policy.training.training", "policy.inference.runtime",
           "policy.training.instructions", "policy.commands.train", "policy.training.motion_eval", "policy.training.head_refit",
           "policy.training.reasoning_eval", "policy.model.structured_init", "policy.training.features", "policy.inference.box_pointer"]


def test_policy_imports_with_sim_agent_and_speech_stacks_blocked():
    code = (
        "import sys\n"
        f"for name in {BLOCKED!r}: sys.modules[name] = None  # import of these now raises\n"
        f"for mod in {MODULES!r}: __import__(mod)\n"
        "leaked = [m for m in sys.modules if m.split('.')[0] in ('agent', 'perception', 'sim')]\n"
        "assert not leaked, leaked\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")
