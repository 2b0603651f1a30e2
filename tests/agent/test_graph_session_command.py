"""`python main.py session`: a scripted person talks to the robot through the channel seam."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

import pytest

from agent.commands import session as session_command


class ScriptedChannel:
    """Says the given lines in order, records everything shown to the person."""

    def __init__(self, lines: list[str]) -> None:
        self.lines, self.shown = list(lines), []

    def ask(self, prompt: str) -> Optional[str]:
        if prompt:
            self.shown.append(prompt)
        return self.lines.pop(0) if self.lines else None

    def say(self, text: str) -> None:
        self.shown.append(text)


def test_session_asks_then_acts_and_writes_a_transcript(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scene = tmp_path / "scene.yaml"
    scene.write_text(
        "objects:\n"
        "  - {id: a, shape: cube, color: red, size: small, position: [0.55, 0.12]}\n"
        "  - {id: b, shape: cube, color: red, size: small, position: [0.55, -0.12]}\n"
        "  - {id: c, shape: bowl, color: green, position: [0.45, 0.0]}\n"
    )
    channel = ScriptedChannel(["pick up the red cube", "the one on the right", "quit"])
    monkeypatch.setitem(session_command.CHANNELS, "scripted", lambda args: channel)
    parser = argparse.ArgumentParser()
    session_command.add_arguments(parser)
    args = parser.parse_args(["--scene", str(scene), "--channel", "scripted", "--run-dir", str(tmp_path),
                              "--no-consistency", "--session-id", "cli"])
    assert session_command.run(args) == 0
    shown = "\n".join(channel.shown)
    assert "robot asks: Do you mean the red cube on the left or the one on the right?" in shown
    assert "robot: I'll pick up the red cube on the right." in shown
    assert "robot: Done" in shown
    assert {p.name for p in (tmp_path / "cli").iterdir()} >= {"session.json", "transcript.jsonl", "checkpoint.sqlite"}
