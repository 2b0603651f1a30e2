"""`AgentSession`: drive the agent graph one turn at a time, persisted in SQLite.

    session = AgentSession(context, "s1", "runs/s1.sqlite")
    turn = session.start("put the red cube in the bowl")
    while isinstance(turn, Question):
        turn = session.resume(ask_person(turn.text))
    print(turn.success, turn.message)

A process killed while a question is pending can be rebuilt from the same checkpoint path and
session id with a fresh context: ``pending()`` returns the question again and ``resume(answer)``
continues with the whole dialogue. One killed between nodes has ``unfinished()`` nodes left:
``carry_on()`` runs them, ``close_unfinished(update)`` ends that run (``agent.recovery`` chooses).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Literal, Optional, Union

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field

from perception.types import PerceivedObject

from agent.context import AgentContext
from agent.graph import build_graph
from agent.self_check import self_check_disagreements
from agent.state import DialogueTurn, Outcome, OutcomeStatus, PendingQuestion, make_serializer


#: Each node's checkpoint is on disk before the next node starts ("async", langgraph's default,
#: lets a kill -9 lose the last ones: a motion could then run again on resume).
DURABILITY: Literal["sync"] = "sync"


class Question(BaseModel):
    """The robot asks; answer with :meth:`AgentSession.resume`.

    ``candidates`` are the perceived objects the question names, in the order it names them
    (their ``box`` lets a screen show them; ``sim_id`` is for metrics only). For a yes/no
    question the single candidate is the proposed one.
    """

    model_config = ConfigDict(frozen=True)

    text: str
    candidates: list[PerceivedObject]
    yes_no: bool = False
    about: Literal["pick", "place", "place2", "correction"] = "pick"  # correction: an open "what instead?"
    image: Optional[str] = Field(None, description="PNG showing the candidates as numbered boxes, in order")


class Finished(BaseModel):
    """How an instruction ended (one per start)."""

    model_config = ConfigDict(frozen=True)

    status: OutcomeStatus
    success: bool
    verified: bool
    acted_on: Optional[str] = Field(description="sim id of the object it picked, None when nothing moved")
    asked: int
    questions: list[str]
    reperceptions: int
    retries: int = Field(0, description="motions tried again after the robot's own look said they missed")
    steps: int = Field(description="control steps sent to the arm")
    message: str
    self_check_disagreements: int = Field(0, description="times the policy's CoT TARGET disagreed with the grounding")


Turn = Union[Question, Finished]


class AgentSession:
    """One conversation with the robot, checkpointed under ``thread_id = session_id``."""

    def __init__(self, context: AgentContext, session_id: str, checkpoint_path: str | Path) -> None:
        self.context = context
        self.session_id = session_id
        self.checkpoint_path = Path(checkpoint_path)
        self.checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: langgraph may run sync nodes in a worker thread. timeout (s):
        # several episode processes may share one checkpoint file (the saver turns on WAL).
        self._conn = sqlite3.connect(str(self.checkpoint_path), check_same_thread=False, timeout=30.0)
        self.graph = build_graph(SqliteSaver(self._conn, serde=make_serializer()))
        self._config = {"configurable": {"thread_id": session_id}}

    def start(self, instruction: str) -> Turn:
        """Give a new instruction (a pending question, if any, is dropped)."""
        self.graph.invoke({"instruction": instruction, "session_id": self.session_id}, self._config,
                          context=self.context, durability=DURABILITY)
        return self._turn()

    def resume(self, answer: str) -> Turn:
        """Answer the pending question."""
        if self.pending() is None:
            raise RuntimeError(f"session {self.session_id!r} has no pending question to answer")
        self.graph.invoke(Command(resume=answer), self._config, context=self.context, durability=DURABILITY)
        return self._turn()

    def pending(self) -> Optional[Question]:
        """The question awaiting an answer (also after a restart), or None."""
        snapshot = self.graph.get_state(self._config)
        if not snapshot.interrupts:
            return None
        values = snapshot.values
        return _question(values["question"], values)

    def incomplete(self) -> bool:
        """A run was killed mid-way: nodes are left (and no question is pending)."""
        snapshot = self.graph.get_state(self._config)
        return not snapshot.interrupts and bool(snapshot.tasks)

    def unfinished(self) -> tuple[str, ...]:
        """The nodes a killed run would start again from their top: those whose results were
        not saved (a node whose results were saved is not run again, its results are applied)."""
        snapshot = self.graph.get_state(self._config)
        return () if snapshot.interrupts else tuple(t.name for t in snapshot.tasks if t.result is None)

    def carry_on(self) -> Turn:
        """Run the unfinished nodes (``agent.recovery`` does this only where nothing moves)."""
        self.graph.invoke(None, self._config, context=self.context, durability=DURABILITY)
        return self._turn()

    def close_unfinished(self, update: dict[str, Any]) -> Finished:
        """End the unfinished run with ``update`` (it must set ``outcome``) as if ``report`` had
        written it, so nothing of it runs again and the next ``start`` begins afresh."""
        self.graph.update_state(self._config, update, as_node="report")
        return self._turn()  # type: ignore[return-value]

    def dialogue(self) -> list[DialogueTurn]:
        """Everything said in this session so far, in order."""
        return list(self.graph.get_state(self._config).values.get("dialogue", []))

    def values(self) -> dict[str, Any]:
        """The checkpointed state (for reports and tests)."""
        return dict(self.graph.get_state(self._config).values)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "AgentSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _turn(self) -> Turn:
        question = self.pending()
        if question is not None:
            return question
        values = self.graph.get_state(self._config).values
        outcome: Optional[Outcome] = values.get("outcome")
        if outcome is None:
            raise RuntimeError(f"session {self.session_id!r} stopped without a question or an outcome")
        return Finished(
            status=outcome.status,
            success=outcome.success,
            verified=outcome.verified,
            acted_on=outcome.acted_on,
            asked=values.get("asked", 0),
            questions=list(values.get("questions", [])),
            reperceptions=values.get("reperceptions", 0),
            retries=values.get("retries", 0),
            steps=values.get("steps", 0),
            message=outcome.message,
            self_check_disagreements=self_check_disagreements(values.get("self_checks", [])),
        )


def _question(pending: PendingQuestion, values: dict[str, Any]) -> Question:
    objects = {o.index: o for o in values["scene"].objects}
    candidates = [objects[i] for i in pending.options if i in objects]
    return Question(text=pending.text, candidates=candidates, yes_no=pending.yes_no, about=pending.about,
                    image=pending.image)
