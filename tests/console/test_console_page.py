"""The console end to end in a real headless Chromium (Debian's, driven by playwright): a typed
ambiguous command, its question as numbered boxes, the right box clicked, the success seen;
STOP mid-motion and the arm held. Expert policy, servers on 127.0.0.1 only."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.transcript import read_transcript
from console.headless import browser_unavailable, candidate_point, chromium_page, running_console

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(browser_unavailable() is not None, reason=str(browser_unavailable()))


def outcome_events(run_dir: Path) -> list:
    return [e for p in run_dir.glob("*/transcript.jsonl") for e in read_transcript(p) if e.kind == "outcome"]


def test_question_as_numbered_boxes_answered_by_a_click(tmp_path: Path) -> None:
    argv = ["--scene", str(REPO / "scenarios" / "two-red-cubes.yaml"), "--policy", "expert", "--run-dir", str(tmp_path)]
    with running_console(argv) as (app, server), chromium_page() as page:
        page.goto(server.url)
        page.wait_for_function("document.getElementById('turn').textContent === 'your turn'")
        page.wait_for_function("window.consoleStats.frames > 0")  # the camera is live
        page.fill("#text", "put the red cube in the green bowl")
        page.press("#text", "Enter")
        page.wait_for_selector("#question:not([hidden])")
        assert "left" in page.text_content("#question-text") and "right" in page.text_content("#question-text")
        assert page.locator(".candidate-btn").count() == 2
        boxes = page.evaluate("view.question.candidates.map((c) => [c.number, c.box])")
        right = max(boxes, key=lambda nb: nb[1][0])[0]  # the person's right is the picture's right
        page.screenshot(path=str(tmp_path / "question.png"))
        x, y = candidate_point(page, right)
        page.click("#camera", position={"x": x, "y": y})
        page.wait_for_selector("#outcome.ok", timeout=90_000)
        assert "Done" in page.text_content("#outcome")
        assert page.evaluate("window.consoleStats.states") > 10  # the arm's state streamed while it moved
    done = outcome_events(tmp_path)
    assert len(done) == 1 and done[0].data["success"] and done[0].data["acted_on"] == "a"
    assert (tmp_path / "question.png").stat().st_size > 0


def test_stop_mid_motion_holds_the_arm(tmp_path: Path) -> None:
    # a pick and place (about 70 control steps), so STOP lands mid-motion on a fast machine too
    argv = ["--scene", str(REPO / "scenarios" / "two-red-cubes.yaml"), "--policy", "expert", "--run-dir", str(tmp_path)]
    with running_console(argv) as (app, server), chromium_page() as page:
        page.goto(server.url)
        page.wait_for_function("document.getElementById('turn').textContent === 'your turn'")
        page.fill("#text", "put the red cube on the left in the green bowl")
        page.press("#text", "Enter")
        page.locator("#stop").focus()  # Space types in the text box; anywhere else it is STOP
        page.wait_for_function("window.consoleStats.lastState && window.consoleStats.lastState.status === 'moving' "
                               "&& window.consoleStats.lastState.step >= 3")
        page.keyboard.press("Space")
        page.wait_for_selector("#outcome.fail")
        held = page.text_content("#arm-ee")
        page.wait_for_timeout(600)
        assert page.text_content("#arm-ee") == held  # nothing moves after the stop
        assert page.text_content("#arm-status") in ("held", "idle")
        assert "stop" in page.text_content("#outcome").lower()
    stop = app.channel.stops[-1]
    # the hold came within one control step: at most the step about to begin when STOP arrived moved
    assert stop.started_at_hold is not None and stop.moves_after is not None and stop.moves_after <= 1
    done = outcome_events(tmp_path)
    assert len(done) == 1 and not done[0].data["success"] and done[0].data["status"] == "stopped"
