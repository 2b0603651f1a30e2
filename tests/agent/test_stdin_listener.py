"""Text session: 'stop' typed while the arm moves reaches it (a background line listener)."""

from __future__ import annotations

import io
import os
from typing import Callable

from agent.commands.session import TextChannel
from agent.driver import Finished
from agent.stdin_listener import LineListener
from tests.agent.test_graph_scenarios import Rig, rig  # noqa: F401 (pytest fixture)


def test_lines_typed_any_time_are_polled_without_blocking() -> None:
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd) as reader, os.fdopen(write_fd, "w") as writer:
        listener = LineListener(reader)
        assert listener.poll(0) is None  # nothing typed: returns at once
        writer.write("stop\n")
        writer.flush()
        assert listener.get(timeout=5.0) == "stop"
        writer.write("no, the other one\n")
        writer.flush()
        heard = None
        for step in range(10_000):
            heard = listener.poll(step) or heard
            if heard:
                break
            listener._thread.join(0.001)  # let the reader thread run
        assert heard == "no, the other one"


def test_text_channel_reads_prompts_from_the_listener_and_ends_at_eof() -> None:
    listener = LineListener(io.StringIO("put the red cube in the bowl\n  \n"))
    channel = TextChannel(listener)
    assert channel.interjections is listener
    assert channel.ask("") == "put the red cube in the bowl"
    assert channel.ask("") == ""
    assert channel.ask("") is None  # Ctrl-D


def test_piped_stdin_keeps_plain_input() -> None:
    channel = TextChannel.for_stdin()  # pytest's stdin is not a terminal
    assert channel.listener is None and channel.interjections is None


def test_stop_typed_during_the_motion_stops_the_arm(rig: Callable[..., Rig]) -> None:
    listener = LineListener(io.StringIO("stop\n"))
    listener._thread.join(5.0)  # the line is typed before the first control step
    r = rig(interjections=listener)
    done = r.session.start("pick up the blue ball")
    assert isinstance(done, Finished) and done.status == "stopped" and done.steps <= 1
