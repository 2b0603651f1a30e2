"""``kill -9`` an interactive session at a chosen point, resume it, and check what survived.

The session is the real ``main.py session`` command (``agent.commands.session.run``) with the
scripted expert (``--policy expert``) and a scripted person, run in a child process. The child
SIGKILLs itself - no finally block, no flush, exactly a ``kill -9`` - when it enters the k-th
run of a graph node (``--kill-node ground:1``) or before the n-th control step is sent
(``--kill-step 25``). A second child resumes with ``--session-id`` alone. :func:`check_resume`
then reads the session folder: the SQLite state (integrity, dialogue kept as a prefix), the
transcript (every line JSON, ``seq`` consecutive, what was written before the kill unchanged),
and the control steps (no step number twice within one instruction, none sent after a cut
motion until the person speaks again). Used by ``tests/agent/test_kill_resume.py`` and
``benchmarks/bench_kill.py``.

    .venv/bin/python -m benchmarks.kill_harness child --run-dir D --session-id S --scene F \\
        --kill-node act:1 --say "pick up the red cube" --answer "the one on the right"
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[1]

#: A table where "pick up the red cube" needs one question ("the one on the right").
TWO_RED_CUBES = """objects:
  - {id: a, shape: cube, color: red, size: small, position: [0.55, 0.12]}
  - {id: b, shape: cube, color: red, size: small, position: [0.55, -0.12]}
  - {id: c, shape: bowl, color: green, position: [0.45, 0.0]}
"""


class ScriptedPerson:
    """Says ``lines`` as instructions in order and ``answer`` to every question; records all."""

    def __init__(self, lines: list[str], answer: str) -> None:
        self.lines, self.answer, self.shown = list(lines), answer, []

    def ask(self, prompt: str) -> Optional[str]:
        if prompt:
            self.shown.append(prompt)
        if prompt.startswith("robot asks:"):
            return self.answer
        return self.lines.pop(0) if self.lines else None

    def say(self, text: str) -> None:
        self.shown.append(text)


def _arm_kill(spec: Optional[str], step: Optional[int]) -> None:
    """Make this process SIGKILL itself at the node run or control step asked for."""
    if spec:
        import agent.graph as graph

        name, _, nth = spec.partition(":")
        runs = {"n": 0}
        node = getattr(graph, name)

        @functools.wraps(node)  # langgraph reads the signature to pass the runtime
        def killing(*args: Any, **kwargs: Any) -> Any:
            runs["n"] += 1
            if runs["n"] == int(nth or 1):
                os.kill(os.getpid(), signal.SIGKILL)
            return node(*args, **kwargs)

        setattr(graph, name, killing)
    if step:
        from sim.pybullet_arm import PyBulletArm

        send = PyBulletArm.send_action
        sent = {"n": 0}

        def killing_send(self: Any, action: Any) -> Any:
            sent["n"] += 1
            if sent["n"] == step:
                os.kill(os.getpid(), signal.SIGKILL)
            return send(self, action)

        PyBulletArm.send_action = killing_send  # type: ignore[method-assign]


def child(argv: list[str]) -> int:
    """One session process (see the module docstring); prints what the person saw as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--session-id", required=True)
    parser.add_argument("--scene", type=Path)
    parser.add_argument("--kill-node")
    parser.add_argument("--kill-step", type=int)
    parser.add_argument("--say", nargs="*", default=[])
    parser.add_argument("--answer", default="the one on the right")
    opts = parser.parse_args(argv)
    _arm_kill(opts.kill_node, opts.kill_step)
    from agent.commands import session as session_command

    person = ScriptedPerson(opts.say, opts.answer)
    session_command.CHANNELS["scripted"] = lambda args: person
    parser = argparse.ArgumentParser()
    session_command.add_arguments(parser)
    args = ["--channel", "scripted", "--run-dir", str(opts.run_dir), "--session-id", opts.session_id,
            "--policy", "expert", "--no-consistency", "--no-calibration"]
    code = session_command.run(parser.parse_args(args + (["--scene", str(opts.scene)] if opts.scene else [])))
    print("SHOWN " + json.dumps(person.shown))
    return code


@dataclass
class Run:
    """One child process: its exit code and what the person saw."""

    code: int
    shown: list[str] = field(default_factory=list)
    stderr: str = ""


def run_child(args: list[str], timeout: float = 300) -> Run:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "benchmarks.kill_harness", "child", *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=timeout)
    shown = next((json.loads(line[6:]) for line in out.stdout.splitlines() if line.startswith("SHOWN ")), [])
    return Run(out.returncode, shown, out.stderr[-2000:])


@dataclass
class Snapshot:
    """A session folder read from outside: transcript events, dialogue, integrity."""

    events: list[dict[str, Any]]
    dialogue: list[str]
    integrity: str
    unfinished: tuple[str, ...]


def snapshot(folder: Path, session_id: str) -> Snapshot:
    from langgraph.checkpoint.sqlite import SqliteSaver

    from agent.graph import build_graph
    from agent.state import make_serializer

    path = folder / "transcript.jsonl"
    text = path.read_text() if path.exists() else ""
    lines = text[: text.rfind("\n") + 1].splitlines()  # a line torn by the kill is not yet written
    events = [json.loads(line) for line in lines]  # raises on a torn or corrupt line
    conn = sqlite3.connect(str(folder / "checkpoint.sqlite"))
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        state = build_graph(SqliteSaver(conn, serde=make_serializer())).get_state(
            {"configurable": {"thread_id": session_id}})
        dialogue = [f"{t.who}: {t.text}" for t in state.values.get("dialogue", [])]
        unfinished = tuple(t.name for t in state.tasks) if not state.interrupts else ()
    finally:
        conn.close()
    return Snapshot(events, dialogue, integrity, unfinished)


def step_problems(events: list[dict[str, Any]]) -> list[str]:
    """Control steps sent twice within one instruction, or sent after a cut motion was told."""
    problems: list[str] = []
    seen: set[int] = set()
    cut = False
    for e in events:
        if e["kind"] == "utterance":
            seen, cut = set(), False
        elif e["kind"] == "say" and "recovered_from" in e["data"]:
            cut = True
        elif e["kind"] == "action" and e["text"] != "hold":
            step = e["data"]["step"]
            if step in seen:
                problems.append(f"step {step} sent twice (seq {e['seq']})")
            if cut:
                problems.append(f"step {step} sent after the cut motion was reported (seq {e['seq']})")
            seen.add(step)
    return problems


def check_resume(before: Snapshot, after: Snapshot) -> list[str]:
    """What a resume broke: [] when dialogue, transcript and SQLite state are intact."""
    problems = []
    if after.integrity != "ok":
        problems.append(f"sqlite integrity: {after.integrity}")
    if after.dialogue[: len(before.dialogue)] != before.dialogue:
        problems.append("dialogue before the kill was not kept")
    if after.events[: len(before.events)] != before.events:
        problems.append("transcript before the kill changed")
    if [e["seq"] for e in after.events] != list(range(len(after.events))):
        problems.append("transcript seq numbers are not consecutive")
    if after.unfinished:
        problems.append(f"run still unfinished after the resume: {after.unfinished}")
    return problems + step_problems(after.events)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        raise SystemExit(child(sys.argv[2:]))
    raise SystemExit(__doc__)
