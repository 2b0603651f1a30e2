"""How the VLA runtime thinks and acts: the settings of ``policy.runtime.VLARuntime``.

Every choice the runtime makes beyond the network's own output is one field here, with what it
does and, where it was measured, what it gained (current figures: docs/RESULTS.md); ``NAIVE`` is ECoT's
reason-every-step loop the speed benchmark compares against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

@dataclass(frozen=True)
class RuntimeSettings:
    """How often to think and how much of each chunk to execute."""

    # Regenerate the chain of thought at least every this many chunks (1 = every call).
    replan_every: int = 4
    # Actions of each predicted chunk executed before the next network call (1..chunk_size;
    # None = the whole chunk).
    execute_steps: Optional[int] = None
    # Also re-reason when the predicted gripper command flips (a new phase: grasp / release).
    replan_on_gripper_change: bool = True
    # Write the TARGET/PLACE box as one of the boxes listed under VISIBLE OBJECTS, the one the
    # model scores highest (policy/box_pointer.py); False decodes those boxes token by token.
    point_boxes: bool = True
    # Send the gripper command as fully open (0) or fully closed (1), thresholded at 0.5, the
    # way the expert commands it; the regressed value otherwise sits between (e.g. 0.14 at a
    # release, which left a ball wedged between the fingers over the bowl).
    binary_gripper: bool = True
    # Keep pointing a TARGET/PLACE at the object it got at the previous reasoning call of the
    # same instruction: candidates overlapping that box by this IoU win (box_pointer.keep_tracked);
    # None lets every call choose afresh.
    track_iou: Optional[float] = 0.5
    # Slots whose tracked object, when no listed box overlaps its last one (the hand or what it
    # carries hides it), keep that last box instead of being pointed afresh: a PLACE does not
    # move while the object is carried to it.
    hold_lost: tuple[str, ...] = ("PLACE",)
    # Keep the TARGET/PLACE boxes the first reasoning call of an instruction wrote for the rest
    # of it: the runtime steers itself with them wherever the caller does not steer. First calls
    # name the right object far more often than later ones, which see the object under or in the
    # hand (78 % against 42 % of all calls); a bowl does not move, and the
    # TARGET of the moment it was named is what a steered run feeds during the carry too.
    hold_boxes: bool = False
    # Keep the PLACE box of an instruction's first reasoning call for these relations: a bowl
    # does not move while the object is carried to it, and later calls see it past the hand and
    # the object. Alone, on two blocks of 90 held-out seeds, it put 4 more objects into bowls and
    # lost none; held for stacks too it lost 3 stacks. A steered
    # PLACE (the agent's grounding) takes precedence. () lets every call point the PLACE afresh.
    hold_place: tuple[str, ...] = ("in",)
    # Whose left/right the person's side words mean ('user': across the table, 'robot'): when a
    # prompt names a side and the slot's listed candidates are twins, that side decides at the
    # instruction's first reasoning call (box_pointer.on_named_side; needs the checkpoint's
    # camera calibration). None leaves the choice to the network's score.
    side_words: Optional[str] = "user"
    # Feed the network the clarifying turns that hold a word its vocabulary lacks, as <unk>.
    # False leaves such a turn out of what the network reads (the side rule above still reads
    # it): the embedded checkpoint learnt twins from "the left or the right one?" only, and
    # "the front or the back one?" (twins one behind the other) derailed its reasoning.
    read_unknown_turns: bool = False
    # Write only a MOVE phase the demonstrations show with the gripper command the arm reports
    # (policy/phase_gate.py: no "done" while a put-down task holds the object closed, no
    # "carry" with the hand open, no "lower"/"release" while the hand still holds it where it
    # closed on it); False lets the network's phase word stand.
    phase_gate: bool = True
    # Rename the listed VISIBLE OBJECTS, and refine their boxes, with the checkpoint's object namer
    # (a CNN on a zoomed crop of each listed box, policy/object_namer.py) before the decoder writes
    # TARGET, so the TARGET and PLACE boxes are pointed among correctly named objects: 'every' at
    # every reasoning call, 'first' at an instruction's first call only, 'off' never. Alone on 90
    # held-out seeds (before the release retreat): 'every' 30/25/17 (pick / in / on), 'first'
    # 30/27/10 (the first call's refined boxes, then the network's own: stacks missed), 'off'
    # 28/25/16. A name the namer gives with less than ``rename_min_prob`` keeps the network's.
    # No effect when the checkpoint has no namer.
    rename_listed: str = "every"
    rename_min_prob: float = 0.5
    # With it, each listed box is replaced by the namer's refined box when the two overlap by
    # at least this IoU; None keeps the network's boxes.
    refine_min_iou: Optional[float] = 0.3
    # KV cache the chain of thought is decoded on (policy/decode_cache.py): 'dynamic' grows one
    # per call; 'static' is one fixed-size cache reused by every call; 'compiled' also compiles
    # its single-token step (torch.compile; CUDA graphs on a GPU). All three write the same
    # reasoning, the compiled one up to its kernels' rounding. 'auto': compiled on CUDA (3.5x on
    # an H100), dynamic on CPU (where compiling costs ~15 s at start for 1.5x).
    decode: str = "auto"
    # After a put-down's hand opens, lift it straight up this far (metres) before the network
    # acts again, as the expert's retreat does; the demonstrations stop before it
    # (policy/release_retreat.py). None leaves the open hand where the network holds it.
    retreat_m: Optional[float] = 0.08


RENAME_MODES = ("first", "every", "off")

NAIVE = RuntimeSettings(replan_every=1, execute_steps=1, replan_on_gripper_change=False)
