"""Keep the MOVE line's phase consistent with the gripper the robot reports.

Every demonstration row pairs its MOVE phase with the gripper command the arm reported at that
step (proprio ``Proprio.command``: 0 open, 1 closed), and the pairs never cross (measured over the
41,109 rows of the 900 committed demos): a put-down task is only "done"
after the release, with the gripper open, and it only lifts, carries or lowers with the gripper
closed. The small network does cross them: with an object held in the air it sometimes writes
"done , hold , gripper open", and the action chunk that reads that line opens the hand over the
wrong place (the cube falls next to its goal).

``allowed_phases`` is that table; the runtime (the ``phase_gate`` rule) uses it as a
grammar constraint when the decoder reaches the phase word: if the network's own choice is not
allowed for the reported gripper, the allowed phase it scores highest is written instead
(``box_pointer.choose_box`` over the allowed words, so it works for any tokenizer). The words
after the phase (direction, gripper) stay the network's.

Where the hand closed matters too. In those demonstrations a put-down lowers and releases only
once it has carried the object away: every "lower" and "release" row stands at least 9.4 cm
(horizontally) from where the hand closed, while "close" and "lift" rows stand right there. The
network sometimes writes "release" straight after a good grasp next to a large bowl, and then
closes and opens on the spot until the episode ends (held-out seed 87). So with the fingers held
apart by something (``common.proprio.Proprio.holding``) and the hand still within
``NEAR_GRASP_M`` of where it closed, "lower" and "release" are not allowed either
(``near_grasp``). An empty hand that closed on nothing is left to the network: the demos never
show it, and its "release" there is how it tries again. (Holding the open hand to "done" once it
had carried the object away and let go, the demonstrations' only phase there, was tried and
dropped: two put-downs lost alone, one gained and one lost in the agent's loop.)

Only the phase word is gated. Holding the action chunk's gripper to the phase as well (no open
in a lift/carry/close chunk, no close in an approach chunk, as in the demonstrations) was tried
and dropped: it saved three dropped objects and lost four put-downs whose head opened or closed
at the right moment under a stale or misread phase (on 90 held-out seeds).
"""

from __future__ import annotations

import re
from typing import Any

from common.proprio import Proprio
from policy.model.cot_format import move_phase

#: Phases each gripper command appears with in the demonstrations, for tasks with a PLACE
#: (put-down) and without (pick and lift).
_PLACE = {
    "open": ("approach", "descend", "close", "done"),
    "closed": ("close", "lift", "carry", "lower", "release"),
}
_PICK = {
    "open": ("approach", "descend", "close"),
    "closed": ("close", "lift", "done"),
}
#: Phases a put-down never shows while the hand holds the object where it closed on it.
_AWAY_FROM_GRASP = ("lower", "release")
#: Horizontal distance (m) from where the hand closed inside which ``_AWAY_FROM_GRASP`` is not
#: allowed: the demonstrations' nearest such row is 9.4 cm away.
NEAR_GRASP_M = 0.04
#: Every phase word the reasoning format uses.
PHASES = tuple(dict.fromkeys(_PLACE["open"] + _PLACE["closed"] + _PICK["open"] + _PICK["closed"]))

_AT_PHASE = re.compile(r"MOVE\s*:\s*$")
_PLACE_IN_TARGET = re.compile(r"TARGET\s*:[^\n]*;")


def at_phase_word(text: str) -> bool:
    """True when the partial reasoning ``text`` stops right before the MOVE line's phase word."""
    return bool(_AT_PHASE.search(text))


def has_place(text: str) -> bool:
    """True when the reasoning's TARGET line names a place ('...; in the green bowl <loc>...')."""
    return bool(_PLACE_IN_TARGET.search(text))


def allowed_phases(place_task: bool, gripper_closed: bool, near_grasp: bool = False) -> tuple[str, ...]:
    """Phase words the demonstrations show with this gripper command for this kind of task;
    ``near_grasp``: the closed hand holds something within ``NEAR_GRASP_M`` of where it closed."""
    allowed = (_PLACE if place_task else _PICK)["closed" if gripper_closed else "open"]
    if near_grasp and gripper_closed:
        allowed = tuple(p for p in allowed if p not in _AWAY_FROM_GRASP)
    return allowed


class GraspPoint:
    """Where the hand closed on something, from proprio alone: ``update(state)`` at every network
    call, ``near(state)`` says whether a closed hand still holds it within ``NEAR_GRASP_M`` of
    there. Forgotten when the hand opens or the fingers shut on nothing."""

    def __init__(self) -> None:
        self.xy: Any = None

    def update(self, state: Any) -> None:
        if not Proprio.from_array(state).holding:
            self.xy = None
        elif self.xy is None:
            hand = Proprio.from_array(state)
            self.xy = (hand.x, hand.y)

    def near(self, state: Any) -> bool:
        if self.xy is None:
            return False
        hand = Proprio.from_array(state)
        return ((hand.x - self.xy[0]) ** 2 + (hand.y - self.xy[1]) ** 2) ** 0.5 < NEAR_GRASP_M


def obeys_phase_table(reasoning: str, state: Any) -> bool:
    """True when the MOVE phase of ``reasoning`` is one the table allows with the gripper command
    the proprio ``state`` reports."""
    return move_phase(reasoning) in allowed_phases(has_place(reasoning), Proprio.from_array(state).closed)


def phase_candidates(tokenizer: Any, text: str, gripper_closed: bool, near_grasp: bool = False) -> dict[str, list[int]]:
    """Allowed phase word -> its token ids, for the decoder at ``text`` (see ``at_phase_word``)."""
    return {
        phase: tokenizer(phase, add_special_tokens=False).input_ids
        for phase in allowed_phases(has_place(text), gripper_closed, near_grasp)
    }

