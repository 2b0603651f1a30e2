"""The control loop shared by every motion node (act, put_back).

``run_motion`` runs the executor on the arm until it is done, out of steps, or the person
interjects. It polls the person EVERY control step and reads what they say
(``agent.interjection``): a correction, "stop" or "never mind" sends one hold action (zero
deltas, gripper unchanged: the arm stops within that control step) and ends the loop with the
reading; "wait" holds the arm still, one hold action a control step, until "go on" (the motion
then carries on where it was) or another interjection, or ``max_pause_steps`` pass (it ends
as a stop). Every action actually sent (after the arm's safety clipping) is logged.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Optional

import numpy as np

from common.proprio import Proprio

from policy.types import PolicyOutput
from sim.arm import ACTION_DIM

from agent.context import ActTarget, AgentContext
from agent.interjection import InterjectionKind, InterjectionReading, read_interjection
from agent.state import DialogueTurn

#: Every kind that cuts a motion short ("go on" does not; "wait" pauses it instead).
ALL_HALTS: tuple[InterjectionKind, ...] = ("referent", "other", "destination", "undo", "cancel", "stop", "unclear")


@dataclass(frozen=True)
class MotionRun:
    """How one motion ended."""

    sent_steps: int  # control steps sent (holds included, also those of a pause)
    halt: Optional[InterjectionReading]  # the interjection that cut it short, if any
    finished: bool  # the executor finished (not cut short, not out of steps)
    grasped: bool = False  # a closing gripper command was sent (or held) during the motion


def run_motion(ctx: AgentContext, target: ActTarget, start: int, dialogue: list[DialogueTurn],
               halts: tuple[InterjectionKind, ...] = ALL_HALTS, first: Optional[PolicyOutput] = None) -> MotionRun:
    """Run the (already reset) executor towards ``target`` from control step ``start``.

    ``halts``: interjection kinds that cut this motion short (others are logged and ignored,
    e.g. "the other one" while putting the wrong one back); a pause is always honoured, and a
    pause that times out ends it as a ``stop``. What the person says is appended to
    ``dialogue`` in place. ``first``: the motion's first chunk, already taken from the
    executor (``act`` checks its reasoning before anything moves); it is sent before asking
    the executor for more.
    """
    queue: deque[np.ndarray] = deque()
    # Gripper command a hold keeps (0 open .. 1 closed): the last one sent; before any, the arm's
    # last command, so a stop never drops what is held.
    grip = Proprio.from_array(ctx.arm.get_observation()["state"]).command
    grasped = grip > 0.5
    last_reasoning = None
    sent_steps = moving_steps = 0
    paused_at: Optional[int] = None  # sent_steps when "wait" was heard; None while moving

    # A spoken-correction listener reads "go on" / "hold on" by whether the arm waits.
    note_paused = getattr(ctx.interjections, "note_paused", lambda paused: None)
    note_paused(False)

    def hold() -> None:
        sent = ctx.arm.send_action(np.array([0, 0, 0, 0, 0, 0, grip], dtype=np.float32))
        ctx.transcript.write("action", "hold", step=start + sent_steps, sent=sent)

    while moving_steps < ctx.settings.max_control_steps:
        said = ctx.interjections.poll(start + sent_steps)
        reading = read_interjection(said) if said else None
        if said:
            ctx.transcript.write("interjection", said, step=start + sent_steps,
                                 kind=reading.kind if reading else None, reading=reading.model_dump() if reading else None)
            dialogue.append(DialogueTurn(who="user", text=said, kind="interjection"))
        if reading is not None and reading.kind in halts:
            hold()
            return MotionRun(sent_steps + 1, reading, False, grasped)
        if reading is not None and reading.kind == "pause" and paused_at is None:
            paused_at = sent_steps
            note_paused(True)
            ctx.say("Okay, waiting.")
            ctx.transcript.write("say", "Okay, waiting.", step=start + sent_steps)
        elif reading is not None and reading.kind == "resume" and paused_at is not None:
            paused_at = None
            note_paused(False)
            ctx.say("Going on.")
            ctx.transcript.write("say", "Going on.", step=start + sent_steps)
        if paused_at is not None:
            if sent_steps - paused_at >= ctx.settings.max_pause_steps:
                return MotionRun(sent_steps, InterjectionReading(kind="stop", text="(no word after the pause)"),
                                 False, grasped)
            hold()  # one hold a control step: the arm stays where it stopped
            sent_steps += 1
            continue
        if not queue:
            if first is not None:
                out, first = first, None
            elif ctx.executor.done:
                return MotionRun(sent_steps, None, True, grasped)
            else:
                out = ctx.executor.select_action(ctx.arm.get_observation(), target.instruction,
                                                 [t.text for t in dialogue])
            if out.notice:  # the executor has something to tell the person (a policy server lost/back)
                ctx.say(out.notice)
                ctx.transcript.write("say", out.notice, step=start + sent_steps)
            if (out.raw_text, out.reasoning) != last_reasoning:
                last_reasoning = (out.raw_text, out.reasoning)
                ctx.transcript.write("reasoning", out.raw_text, reasoning=out.reasoning, step=start + sent_steps)
            if len(out.actions) == 0:
                return MotionRun(sent_steps, None, True, grasped)
            queue.extend(np.asarray(out.actions, dtype=np.float32).reshape(-1, ACTION_DIM))
        sent = ctx.arm.send_action(queue.popleft())
        grip = float(sent[6])
        grasped = grasped or grip > 0.5
        ctx.transcript.write("action", step=start + sent_steps, sent=sent)
        sent_steps += 1
        moving_steps += 1
    return MotionRun(sent_steps, None, False, grasped)
