"""The control loop shared by every motion node (act, put_back).

``run_motion`` runs the executor on the arm until it is done, out of steps, or the person
interjects. It polls the person EVERY control step: a recognised interjection sends one hold
action (zero deltas, gripper unchanged: the arm stops within that control step) and ends the
loop. Every action actually sent (after the arm's safety clipping) is logged.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal, Optional

import numpy as np

from policy.types import PolicyOutput
from sim.arm import ACTION_DIM

from agent.context import ActTarget, AgentContext
from agent.dialogue import classify_interjection
from agent.state import DialogueTurn

Halt = Literal["stop", "other"]


@dataclass(frozen=True)
class MotionRun:
    """How one motion ended."""

    sent_steps: int  # control steps sent (hold included)
    halt: Optional[Halt]  # the interjection that cut it short, if any
    finished: bool  # the executor finished (not cut short, not out of steps)


def run_motion(ctx: AgentContext, target: ActTarget, start: int, dialogue: list[DialogueTurn],
               halts: tuple[Halt, ...] = ("stop", "other"), first: Optional[PolicyOutput] = None) -> MotionRun:
    """Run the (already reset) executor towards ``target`` from control step ``start``.

    ``halts``: interjection kinds that cut this motion short (others are logged and ignored,
    e.g. "the other one" while putting the wrong one back). What the person says is appended
    to ``dialogue`` in place. ``first``: the motion's first chunk, already taken from the
    executor (``act`` checks its reasoning before anything moves); it is sent before asking
    the executor for more.
    """
    queue: deque[np.ndarray] = deque()
    # Gripper command a hold keeps (0 open .. 1 closed): the last one sent; before any, the arm's
    # last command (state[7]; state[6] is the opening), so a stop never drops what is held.
    grip = float(ctx.arm.get_observation()["state"][7])
    last_reasoning = None
    sent_steps = 0
    while sent_steps < ctx.settings.max_control_steps:
        said = ctx.interjections.poll(start + sent_steps)
        if said:
            kind = classify_interjection(said)
            ctx.transcript.write("interjection", said, step=start + sent_steps, kind=kind)
            dialogue.append(DialogueTurn(who="user", text=said, kind="interjection"))
            if kind is not None and kind in halts:
                hold = np.zeros(ACTION_DIM, dtype=np.float32)
                hold[6] = grip
                sent = ctx.arm.send_action(hold)
                ctx.transcript.write("action", "hold", step=start + sent_steps, sent=sent)
                return MotionRun(sent_steps + 1, kind, False)
        if not queue:
            if first is not None:
                out, first = first, None
            elif ctx.executor.done:
                return MotionRun(sent_steps, None, True)
            else:
                out = ctx.executor.select_action(ctx.arm.get_observation(), target.instruction,
                                                 [t.text for t in dialogue])
            if (out.raw_text, out.reasoning) != last_reasoning:
                last_reasoning = (out.raw_text, out.reasoning)
                ctx.transcript.write("reasoning", out.raw_text, reasoning=out.reasoning, step=start + sent_steps)
            if len(out.actions) == 0:
                return MotionRun(sent_steps, None, True)
            queue.extend(np.asarray(out.actions, dtype=np.float32).reshape(-1, ACTION_DIM))
        sent = ctx.arm.send_action(queue.popleft())
        grip = float(sent[6])
        ctx.transcript.write("action", step=start + sent_steps, sent=sent)
        sent_steps += 1
    return MotionRun(sent_steps, None, False)
