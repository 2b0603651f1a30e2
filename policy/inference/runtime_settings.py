"""How the VLA runtime schedules the network: the settings of ``policy.inference.runtime.VLARuntime``.

How often it thinks, how much of each chunk it executes and which KV cache it decodes on; what it
does beyond the network's own output is the ``rules`` field (``policy/inference/rules.py``). ``NAIVE`` is
ECoT's reason-every-step loop the speed benchmark compares against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from policy.inference.rules import RuleSet


@dataclass(frozen=True)
class RuntimeSettings:
    """How often to think, how much of each chunk to execute, and the rules switched on."""

    # Regenerate the chain of thought at least every this many chunks (1 = every call).
    replan_every: int = 4
    # Actions of each predicted chunk executed before the next network call (1..chunk_size;
    # None = the whole chunk).
    execute_steps: Optional[int] = None
    # Also re-reason when the predicted gripper command flips (a new phase: grasp / release).
    replan_on_gripper_change: bool = True
    # KV cache the chain of thought is decoded on (policy/inference/decode_cache.py): 'dynamic' grows one
    # per call; 'static' is one fixed-size cache reused by every call; 'compiled' also compiles
    # its single-token step (torch.compile; CUDA graphs on a GPU). All three write the same
    # reasoning, the compiled one up to its kernels' rounding. 'auto': compiled on CUDA (3.5x on
    # an H100), dynamic on CPU (where compiling costs ~15 s at start for 1.5x).
    decode: str = "auto"
    # The runtime rules switched on, each with its config (policy/inference/rules.py); none = the network alone.
    rules: RuleSet = RuleSet.all()


NAIVE = RuntimeSettings(replan_every=1, execute_steps=1, replan_on_gripper_change=False)
