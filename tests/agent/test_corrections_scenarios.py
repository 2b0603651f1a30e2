"""Corrections in every common form, said while the arm moves or right after it: what a person
notices (which object ended where, what went back, that the arm held at once, that it asked).

Real PyBullet sim, perception and grounder, the agent graph with its SQLite checkpointer, and the
scripted expert moving the arm (fast); the simulated person says the scenario's interjections."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pytest

from agent.report import EpisodeResult
from agent.runner import RunConfig, run_scenario
from agent.scenario import Scenario

EXPERT = RunConfig(consistency="off", policy="expert")
LATE = 100_000  # a step no motion reaches: said once the robot has finished
# The person stands across the table: -y is their left. Red cube "a" on their left, blue cube
# "b" on their right, a green bowl "g" and a red bowl "r" nearer to them.
OBJECTS = [
    {"id": "a", "shape": "cube", "color": "red", "size": "medium", "position": [0.58, -0.14]},
    {"id": "b", "shape": "cube", "color": "blue", "size": "medium", "position": [0.58, 0.14]},
    {"id": "g", "shape": "bowl", "color": "green", "size": "large", "position": [0.42, 0.14]},
    {"id": "r", "shape": "bowl", "color": "red", "size": "large", "position": [0.42, -0.14]},
]


def _run(tmp_path: Path, instruction: str, said: list[dict[str, Any]], pick: Optional[str], place: Optional[str],
         success: bool = True, ask: Any = False, replies: tuple[str, ...] = (),
         objects: Optional[list[dict[str, Any]]] = None) -> EpisodeResult:
    scenario = Scenario.model_validate({
        "name": "correction", "scene": {"objects": objects or OBJECTS}, "instruction": instruction,
        "user": {"intent": {"pick": pick, "place": place}, "interjections": said, "replies": list(replies)},
        "expect": {"success": success, "ask": ask},
    })
    result = run_scenario(scenario, EXPERT, tmp_path, seed=0)
    assert result.error is None, result.error
    return result


def _events(result: EpisodeResult) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(str(result.transcript)).read_text().splitlines()]


def _said(result: EpisodeResult) -> list[str]:
    return [e["text"] for e in _events(result) if e["kind"] in ("say", "outcome", "question")]


def _held_at_once(result: EpisodeResult, words: str) -> None:
    """The control step right after ``words`` was heard sent a hold: no motion, gripper kept."""
    events = _events(result)
    heard = next(i for i, e in enumerate(events) if e["kind"] == "interjection" and e["text"] == words)
    before = [e for e in events[:heard] if e["kind"] == "action"][-1]
    after = next(e for e in events[heard:] if e["kind"] == "action")
    assert after["text"] == "hold" and after["data"]["step"] == events[heard]["data"]["step"]
    sent = np.asarray(after["data"]["sent"])
    assert np.allclose(sent[:6], 0.0) and sent[6] == pytest.approx(before["data"]["sent"][6])


@pytest.mark.parametrize("step", [12, 30, LATE], ids=["reaching", "holding", "after"])
def test_a_new_referent_takes_the_named_object_and_returns_the_wrong_one(tmp_path: Path, step: int) -> None:
    result = _run(tmp_path, "put the red cube in the green bowl", [{"after_step": step, "say": "no, the blue one"}], "b", "g")
    assert result.passed and result.success and result.acted_on == "b", result.message
    assert result.moved == ["b"]  # the red cube is back within 2 cm of where it stood
    assert result.asked == 0
    if step != LATE:
        _held_at_once(result, "no, the blue one")
    else:
        assert any("back where it was" in s for s in _said(result))


def test_a_new_referent_by_shape_keeps_the_place(tmp_path: Path) -> None:
    objects = [*OBJECTS[:1], {"id": "b", "shape": "ball", "color": "yellow", "size": "medium", "position": [0.58, 0.14]},
               *OBJECTS[2:]]
    result = _run(tmp_path, "put the red cube in the red bowl", [{"after_step": 15, "say": "not the cube, the ball"}],
                  "b", "r", objects=objects)
    assert result.passed and result.success and result.moved == ["b"], result.message  # the ball in the RED bowl


@pytest.mark.parametrize("step,say", [(12, "put it in the green bowl instead"), (32, "actually, in the green bowl"),
                                      (LATE, "hmm, rather into the green bowl")], ids=["reaching", "holding", "after"])
def test_a_new_destination_keeps_the_object_and_changes_only_the_place(tmp_path: Path, step: int, say: str) -> None:
    result = _run(tmp_path, "put the red cube in the red bowl", [{"after_step": step, "say": say}], "a", "g")
    assert result.passed and result.success and result.acted_on == "a", result.message
    assert result.moved == ["a"] and result.asked == 0
    assert not any("back where it was" in s for s in _said(result))  # carried on, not undone
    if step != LATE:
        _held_at_once(result, say)


def test_wait_holds_the_arm_still_until_go_on_then_it_finishes(tmp_path: Path) -> None:
    said = [{"after_step": 15, "say": "hold on", "then": {"after": 25, "say": "ok, go on"}}]
    result = _run(tmp_path, "put the red cube in the green bowl", said, "a", "g")
    assert result.passed and result.success and result.moved == ["a"], result.message
    events = _events(result)
    start = next(i for i, e in enumerate(events) if e["kind"] == "interjection" and e["text"] == "hold on")
    end = next(i for i, e in enumerate(events) if e["kind"] == "interjection" and e["text"] == "ok, go on")
    paused = [e for e in events[start:end] if e["kind"] == "action"]
    assert len(paused) >= 25 and all(e["text"] == "hold" for e in paused)  # one hold a control step
    assert all(np.allclose(np.asarray(e["data"]["sent"])[:6], 0.0) for e in paused)
    assert "Okay, waiting." in _said(result) and "Going on." in _said(result)


@pytest.mark.parametrize("say", ["put it back", "never mind"])
def test_put_it_back_or_never_mind_mid_motion_leaves_the_table_as_it_was(tmp_path: Path, say: str) -> None:
    result = _run(tmp_path, "put the red cube in the green bowl", [{"after_step": 30, "say": say}], None, None,
                  success=False)
    assert result.passed and result.moved == [] and result.status == "cancelled", result.message
    _held_at_once(result, say)


def test_put_it_back_after_the_motion_undoes_it(tmp_path: Path) -> None:
    result = _run(tmp_path, "put the red cube in the green bowl", [{"after_step": LATE, "say": "undo that"}], None, None,
                  success=False)
    assert result.passed and result.moved == [] and "Okay, it's back where it was." in result.message


@pytest.mark.parametrize("say", ["stop", "never mind", "wait"])
def test_stop_or_never_mind_with_nothing_running_is_answered_not_grounded(tmp_path: Path, say: str) -> None:
    result = _run(tmp_path, "put the red cube in the green bowl", [{"after_step": LATE, "say": say}], "a", "g")
    assert result.passed and result.success and result.moved == ["a"]  # what was done stays done
    assert "Okay, I'm not doing anything right now." in result.message
    assert not any("can't see" in s for s in _said(result))


def test_an_unclear_no_gets_a_question_and_the_answer_is_followed(tmp_path: Path) -> None:
    result = _run(tmp_path, "put the red cube in the green bowl", [{"after_step": 25, "say": "no no no"}], "b", "g",
                  ask={"min": 1, "max": 1})
    assert result.passed and result.success and result.moved == ["b"], result.message
    assert result.questions == ["Sorry, I stopped. What should I do instead?"]
    assert len(result.answers) == 1 and result.answers[0].endswith("the blue cube")  # what was wrong
    _held_at_once(result, "no no no")


def test_an_unclear_answer_is_asked_once_more_then_it_stays_still(tmp_path: Path) -> None:
    result = _run(tmp_path, "put the red cube in the green bowl", [{"after_step": 25, "say": "that's wrong"}], None, None,
                  success=False, ask={"min": 2, "max": 2}, replies=("hmm", "I don't know"))
    assert result.status == "gave_up" and result.asked == 2, result.message
    assert "put it somewhere else" in result.questions[1]


def test_a_new_referent_that_fits_two_objects_gets_a_question_not_a_guess(tmp_path: Path) -> None:
    twin = {"id": "c", "shape": "cube", "color": "blue", "size": "medium", "position": [0.54, 0.0]}
    result = _run(tmp_path, "put the red cube in the green bowl", [{"after_step": 14, "say": "no, the blue one"}], "c", "g",
                  ask={"min": 1, "max": 1}, objects=[*OBJECTS, twin])
    assert result.passed and result.success and result.moved == ["c"], result.message
    assert len(result.questions) == 1 and "blue cube" in result.questions[0]  # which blue cube?


@pytest.mark.slow
@pytest.mark.parametrize("step,say", [(30, "put it in the green bowl instead"), (20, "no, the blue one")],
                         ids=["destination", "referent"])
def test_with_the_learned_policy_a_correction_mid_motion_is_followed(tmp_path: Path, step: int, say: str) -> None:
    pick = "a" if "bowl" in say else "b"
    scenario = Scenario.model_validate({
        "name": "correction-vla", "scene": {"objects": OBJECTS}, "instruction": "put the red cube in the red bowl",
        "user": {"intent": {"pick": pick, "place": "g" if pick == "a" else "r"},
                 "interjections": [{"after_step": step, "say": say}]},
        "expect": {"success": True, "ask": False},
    })
    result = run_scenario(scenario, RunConfig(consistency="off", policy="vla", max_control_steps=150), tmp_path, seed=0)
    assert result.error is None and result.passed and result.moved == [pick], result.message
    _held_at_once(result, say)
