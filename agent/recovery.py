"""Resuming a run that a kill cut between two nodes of the agent graph.

The graph's state is checkpointed after every node, so a session killed mid-run resumes with
the nodes it still had to run (:meth:`agent.driver.AgentSession.unfinished`). What to do with
them depends on whether the arm was moving:

- a look, a grounding, a decision (nothing moved), or a node whose results were saved: run
  them (``carry_on``); they start from their top, as after a question's answer (saved results
  are applied instead), and the instruction goes on;
- a motion (``act``, ``put_back``) that had sent a control step: never run it again - the arm
  had moved part of the way, and the table changed (one that had sent nothing is run). The run is closed as ``stopped``, the robot tells the person that the
  motion was cut, after how many control steps, and what it sees now, and waits for the next
  instruction. The steps the cut motion sent (read from the transcript) are added to the
  instruction's count, so no step goes missing from the record and none is sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Optional

from agent.driver import AgentSession, Turn
from agent.state import DialogueTurn, Outcome

#: Nodes that move the arm: cut mid-way, they are reported, never re-run.
MOTION_NODES = frozenset({"act", "put_back"})


@dataclass(frozen=True)
class Recovery:
    """What resuming did with a cut run."""

    kind: Literal["none", "carried_on", "cut_motion"]
    said: str = ""
    turn: Optional[Turn] = None
    steps_sent: int = 0


def recover(session: AgentSession) -> Recovery:
    """Finish or close the run a kill left unfinished (see the module docstring)."""
    if not session.incomplete():
        return Recovery("none")
    nodes = session.unfinished()
    ctx = session.context
    values = session.values()
    sent = _steps_of_cut_motion(ctx.transcript)
    if not MOTION_NODES & set(nodes) or sent <= values.get("steps", 0):  # the cut node sent nothing
        return Recovery("carried_on", turn=session.carry_on())
    seen = ctx.perceive(ctx.arm.get_observation())
    what = _listing([f"a {o.color} {o.shape}" for o in seen.objects]) or "nothing on the table"
    doing = values.get("instruction") or "the last instruction"
    moved = f" after {sent} control step{'s' if sent != 1 else ''}"
    text = (f"I was shut down in the middle of a motion for \"{doing}\"; it was cut{moved} and did not finish. "
            f"Now I see {what}. Tell me what to do next.")
    ctx.say(text)
    ctx.transcript.write("say", text, recovered_from=list(nodes), steps_sent=sent,
                         objects=[o.model_dump(mode="json") for o in seen.objects])
    target = values.get("target")
    pick = None
    if target is not None and values.get("scene") is not None:
        pick = next((o.sim_id for o in values["scene"].objects if o.index == target.pick), None)
    outcome = Outcome(status="stopped", success=False, acted_on=pick if sent else None, message=text)
    turn = session.close_unfinished({
        "outcome": outcome, "halt": "stop", "motion_finished": False, "scene": seen,
        "steps": max(values.get("steps", 0), sent),
        "dialogue": [*values.get("dialogue", []), DialogueTurn(who="robot", text=text)],
        "last_target": target, "last_instruction": values.get("instruction"),
    })
    ctx.transcript.write("outcome", text, **outcome.model_dump(), steps=max(values.get("steps", 0), sent),
                         recovered=True)
    return Recovery("cut_motion", said=text, turn=turn, steps_sent=sent)


def _steps_of_cut_motion(transcript: Any) -> int:
    """Control steps the instruction had sent when the kill came: one past the last ``action``
    event after its last decision (motion steps are numbered from the instruction's start)."""
    from agent.transcript import read_transcript

    path = getattr(transcript, "path", None)
    if path is None or not path.exists():
        return 0
    steps = 0
    for event in read_transcript(path):
        if event.kind in ("utterance", "outcome"):
            steps = 0
        elif event.kind == "action" and isinstance(event.data.get("step"), int):
            steps = max(steps, event.data["step"] + 1)
    return steps


def _listing(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"
