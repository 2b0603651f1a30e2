"""The agent's StateGraph: listen -> perceive -> ground -> decide -> (clarify | reperceive | act | refuse).

``clarify -> ground`` folds the answer into the state; ``act -> verify -> report`` closes a motion
(``verify -> act`` once more when the robot's own look says it missed: ``agent.nodes_verify``),
``act -> reperceive`` / ``act -> clarify`` when the policy's chain-of-thought TARGET disagreed
with the grounding before anything was sent (the CoT self-check, ``agent.self_check``),
``act -> put_back -> ground`` returns the wrong object and re-grounds after a correction ("no, the
other one", "no, the blue one", "put it in the green bowl instead"; ``put_back -> perceive`` when
the object was set down somewhere the last look did not see; ``put_back -> report`` after "put it
back" / "never mind"), and so does ``listen -> put_back`` for a correction after the motion;
``act -> report`` after "stop"; ``act -> clarify`` (and ``listen -> clarify``) asks what to do
instead after a correction it could not read (``agent.corrections``).
A multi-step request runs ``perceive -> plan -> ground`` (``plan`` makes the plan, or starts
its next step; ``plan -> plan_ask -> ground`` first asks about its ambiguous steps, in one
question) and ``report -> plan_step -> perceive`` until the plan ends (``agent.nodes_plan``);
a single-object request passes ``plan`` untouched and ends at ``report``.
Routers return ``Literal`` node names. Nothing is built at import time: call :func:`build_graph`.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from langgraph.graph import START, StateGraph

from agent.context import AgentContext
from agent.nodes_act import act, put_back, report
from agent.nodes_decide import clarify, decide, refuse
from agent.nodes_ground import ground, listen, perceive, reperceive
from agent.nodes_plan import plan, plan_step, route_plan, route_plan_step, route_report
from agent.nodes_verify import verify
from agent.plan_questions import plan_ask
from agent.state import AgentState


#: Halts after which what was taken goes back first (put_back is a no-op when nothing was).
PUT_BACK_FIRST = ("referent", "other", "destination", "undo", "cancel")


def route_listen(state: AgentState) -> Literal["perceive", "put_back", "report", "clarify"]:
    """A correction puts the wrong pick back, then re-grounds in the previous observation (whose
    indices the exclusion uses; putting it back keeps that observation true); one with nothing
    to correct is answered at once; one it cannot read is asked about."""
    if state.get("question") is not None:
        return "clarify"
    if state.get("put_back") is not None:
        return "put_back"
    if state.get("outcome") is not None:
        return "report"
    return "put_back" if state.get("correction") else "perceive"


def route_put_back(state: AgentState) -> Literal["ground", "perceive", "report"]:
    """A 'stop' while putting back (or 'put it back' / 'never mind') ends the instruction; a new
    destination for an object set down elsewhere looks again; otherwise choose again."""
    if state.get("outcome") is not None:
        return "report"
    return "perceive" if state.get("relook") else "ground"


def route_decision(state: AgentState) -> Literal["clarify", "reperceive", "act", "refuse"]:
    decision = state["decision"]
    assert decision is not None, "decide always sets a decision"
    return decision.kind


def route_answer(state: AgentState) -> Literal["ground", "report", "put_back", "clarify"]:
    """A cancel ends the instruction; an answer to "what should I do instead?" may put the
    object back first, or be asked again; any other answer re-grounds with it folded in."""
    if state.get("question") is not None:
        return "clarify"
    if state.get("put_back") is not None or state.get("relook"):
        return "put_back"
    return "report" if state.get("outcome") is not None else "ground"


def route_motion(state: AgentState) -> Literal["verify", "put_back", "report", "reperceive", "clarify"]:
    """A correction puts what was taken back and re-grounds (or ends: 'never mind'); an outcome
    already set ('stop', unreachable target, a self-check that stopped) is reported; a policy
    TARGET that disagreed with the grounding, with nothing sent, looks again or asks the
    question ``act`` composed (so does a correction it could not read)."""
    if state.get("halt") in PUT_BACK_FIRST:
        return "put_back"
    if state.get("outcome") is not None:
        return "report"
    recheck = state.get("recheck")
    if recheck == "look_again":
        return "reperceive"
    if recheck == "ask":
        return "clarify"
    return "verify"


def route_verify(state: AgentState) -> Literal["act", "report"]:
    """A motion its own look says missed goes again (``verify`` aimed it anew); else report."""
    return "report" if state.get("outcome") is not None else "act"


def build_graph(checkpointer: Optional[Any] = None) -> Any:
    """Compile the agent graph; ``checkpointer`` (SqliteSaver / InMemorySaver) enables questions."""
    builder = StateGraph(AgentState, context_schema=AgentContext)
    for name, node in (
        ("listen", listen), ("perceive", perceive), ("ground", ground), ("decide", decide),
        ("clarify", clarify), ("reperceive", reperceive), ("act", act), ("put_back", put_back), ("refuse", refuse),
        ("verify", verify), ("report", report), ("plan", plan), ("plan_step", plan_step),
        ("plan_ask", plan_ask),
    ):
        builder.add_node(name, node)
    builder.add_edge(START, "listen")
    builder.add_conditional_edges("listen", route_listen)
    builder.add_edge("perceive", "plan")
    builder.add_conditional_edges("plan", route_plan)
    builder.add_edge("ground", "decide")
    builder.add_conditional_edges("decide", route_decision)
    builder.add_conditional_edges("clarify", route_answer)
    builder.add_edge("reperceive", "ground")
    builder.add_conditional_edges("act", route_motion)
    builder.add_conditional_edges("put_back", route_put_back)
    builder.add_edge("refuse", "report")
    builder.add_conditional_edges("verify", route_verify)
    builder.add_conditional_edges("report", route_report)
    builder.add_conditional_edges("plan_step", route_plan_step)
    builder.add_conditional_edges("plan_ask", route_plan)
    return builder.compile(checkpointer=checkpointer)
