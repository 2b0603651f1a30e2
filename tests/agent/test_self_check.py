"""The CoT self-check: before a motion's first chunk is sent, the policy's chain-of-thought
TARGET is checked against the agent's own grounding. A disagreeing policy makes the robot look
again once, then ask one question naming both objects, and never move blindly; the privileged
expert always agrees. Driven on the real simulator and perception, with a stand-in policy."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Callable

import numpy as np
import pytest

from agent.context import ActTarget, AgentSettings
from agent.driver import Finished, Question
from agent.executors import ExpertExecutor
from agent.report import EpisodeResult, build_report, format_table
from agent.self_check import SelfCheckSettings, box_iou, check_target
from perception.proposals import perceive
from perception.types import PerceivedObject
from policy.types import PolicyOutput, ReasonedObject, Reasoning
from tests.agent.test_graph_scenarios import Rig, rig  # noqa: F401 (pytest fixture)

SETTINGS = SelfCheckSettings()


class ScriptedTargetPolicy:
    """Stands in for the VLA: moves like the expert towards the agent's target, but its CoT
    TARGET is scripted. ``says[i]`` = (sim id of the object it names and boxes, confidence) for
    the i-th motion (reset); the last entry repeats."""

    privileged = False

    def __init__(self, r: Rig, says: list[tuple[str, float]]) -> None:
        self.expert = ExpertExecutor(r.env)
        self.says = says
        self.resets = 0
        seen = perceive(r.env.arm.get_observation(), labels=r.env.arm.segmentation_labels)
        self.objects = {o.sim_id: o for o in seen.objects}

    def reset(self, target: ActTarget) -> None:
        self.expert.reset(target)
        self.resets += 1

    def select_action(self, obs: dict[str, Any], instruction: str, dialogue: list[str]) -> PolicyOutput:
        out = self.expert.select_action(obs, instruction, dialogue)
        sim_id, confidence = self.says[min(self.resets, len(self.says)) - 1]
        o, cam = self.objects[sim_id], obs["camera"]
        x0, y0, x1, y1 = o.box
        named = ReasonedObject(name=f"{o.color} {o.shape}", box=(x0 / cam.width, y0 / cam.height,
                                                                  x1 / cam.width, y1 / cam.height))
        return out.model_copy(update={"target": named, "confidence": confidence})

    @property
    def done(self) -> bool:
        return self.expert.done


def _with_policy(r: Rig, says: list[tuple[str, float]]) -> ScriptedTargetPolicy:
    policy = ScriptedTargetPolicy(r, says)
    r.session.context.executor = policy
    return policy


def _finished(turn: Any) -> Finished:
    assert isinstance(turn, Finished), f"expected the instruction to end, got {turn}"
    return turn


def _checks(r: Rig) -> list[tuple[bool, str]]:
    return [(e.data["verdict"]["agree"], e.data["action"]) for e in r.transcript.of_kind("self_check")]


def _unmoved(r: Rig, before: dict[str, np.ndarray]) -> bool:
    return all(np.allclose(before[k], p, atol=1e-3) for k, p in r.positions().items())


# -- the comparison itself --------------------------------------------------------------------

RED_CUBE = PerceivedObject(index=1, color="red", shape="cube", size="small", position=(0.5, 0.1, 0.02),
                           box=(20, 40, 30, 50))  # in a 100 x 100 image


def _said(name: str, box: tuple[float, float, float, float] = (0.2, 0.4, 0.3, 0.5),
          confidence: float = 0.9) -> PolicyOutput:
    return PolicyOutput(actions=np.zeros((4, 7), np.float32), target=ReasonedObject(name=name, box=box),
                        confidence=confidence)


def test_the_grounded_object_named_and_boxed_agrees() -> None:
    verdict = check_target(_said("red block"), RED_CUBE, (100, 100), SETTINGS)  # everyday word for cube
    assert verdict.agree and verdict.reason is None and verdict.iou == pytest.approx(1.0)
    assert verdict.confidence == pytest.approx(0.9)


@pytest.mark.parametrize(("output", "reason"), [
    (_said("blue cube"), "name"),
    (_said("red ball"), "name"),
    (_said("red cube", box=(0.6, 0.4, 0.7, 0.5)), "box"),
    (_said("red cube", confidence=0.2), "low_confidence"),
    (PolicyOutput(actions=np.zeros((4, 7), np.float32)), "name"),  # no TARGET written at all
])
def test_each_disagreement_has_its_reason(output: PolicyOutput, reason: str) -> None:
    verdict = check_target(output, RED_CUBE, (100, 100), SETTINGS)
    assert not verdict.agree and verdict.reason == reason


def test_thresholds_come_from_the_settings() -> None:
    shifted = _said("red cube", box=(0.22, 0.4, 0.32, 0.5), confidence=0.3)  # IoU 0.67
    assert check_target(shifted, RED_CUBE, (100, 100), SelfCheckSettings(min_iou=0.5, min_confidence=0.2)).agree
    assert check_target(shifted, RED_CUBE, (100, 100), SelfCheckSettings(min_iou=0.8)).reason == "box"
    assert box_iou((0, 0, 1, 1), (0, 0, 0, 0)) == 0.0


def test_a_target_only_in_the_parsed_reasoning_is_used() -> None:
    """The expert fills ``reasoning.target`` only; the check reads it from there."""
    out = PolicyOutput(actions=np.zeros((4, 7), np.float32),
                       reasoning=Reasoning(target=ReasonedObject(name="small red cube", box=(0.2, 0.4, 0.3, 0.5))))
    assert check_target(out, RED_CUBE, (100, 100), SETTINGS).agree


# -- in the agent graph ------------------------------------------------------------------------


def test_expert_passes_the_check_and_acts_as_before(rig: Callable[..., Rig]) -> None:
    r = rig()
    done = _finished(r.session.start("put the blue ball in the green bowl"))
    assert (done.success, done.acted_on, done.asked, done.reperceptions) == (True, "d", 0, 0)
    assert done.self_check_disagreements == 0
    (event,) = r.transcript.of_kind("self_check")
    assert event.data["action"] == "passed"
    assert event.data["verdict"]["iou"] == pytest.approx(1.0) and event.data["verdict"]["confidence"] == 1.0


def test_policy_naming_the_grounded_object_acts_without_asking(rig: Callable[..., Rig]) -> None:
    r = rig()
    policy = _with_policy(r, [("d", 0.9)])
    done = _finished(r.session.start("put the blue ball in the green bowl"))
    assert (done.success, done.acted_on, done.asked, done.reperceptions) == (True, "d", 0, 0)
    assert policy.resets == 1 and _checks(r) == [(True, "passed")]


def _wrong_then(r: Rig, *after_answer: tuple[str, float]) -> tuple[Question, ScriptedTargetPolicy]:
    """'Put the blue ball in the green bowl' while the policy names the red cube a: it looks
    again, asks, and nothing has moved. ``after_answer``: what the policy says next."""
    before = r.positions()
    policy = _with_policy(r, [("a", 0.9), ("a", 0.9), *after_answer])
    question = r.session.start("put the blue ball in the green bowl")
    assert isinstance(question, Question) and question.yes_no
    assert question.text == ("My policy is reaching for the red cube on the right, but I understood the "
                             "blue ball. Should I take the blue ball?")
    assert [c.sim_id for c in question.candidates] == ["d"]
    values = r.session.values()
    assert (values["reperceptions"], values["asked"], values["steps"], policy.resets) == (1, 1, 0, 2)
    assert _checks(r) == [(False, "look_again"), (False, "ask")]
    assert all(e.data["raw_text"] for e in r.transcript.of_kind("self_check"))  # the unsent CoT is kept
    assert _unmoved(r, before)
    return question, policy


def test_wrong_target_looks_again_then_asks_naming_both_then_acts_on_yes(rig: Callable[..., Rig]) -> None:
    r = rig()
    question, policy = _wrong_then(r, ("d", 0.9))  # the answer reaches the policy
    done = _finished(r.session.resume("yes"))
    assert (done.success, done.acted_on, done.asked, done.reperceptions) == (True, "d", 1, 1)
    assert done.questions == [question.text] and done.self_check_disagreements == 2
    assert _checks(r)[-1] == (True, "passed")


def test_a_steerable_policy_that_still_disagrees_after_a_second_look_is_steered_not_asked(
        rig: Callable[..., Rig]) -> None:
    """The VLA executor writes the grounded box into the policy's reasoning (ECoT intervention),
    so a policy that keeps naming the red cube is overruled: it looks again once, then acts on
    the blue ball the person asked for, with no question."""
    r = rig()
    policy = _with_policy(r, [("a", 0.9)])
    policy.steerable = True
    done = _finished(r.session.start("put the blue ball in the green bowl"))
    assert (done.success, done.acted_on, done.asked, done.reperceptions) == (True, "d", 0, 1)
    assert _checks(r) == [(False, "look_again"), (False, "steered")]
    assert done.self_check_disagreements == 2


def test_yes_while_the_policy_still_disagrees_stops_without_moving(rig: Callable[..., Rig]) -> None:
    r = rig()
    before = r.positions()
    _wrong_then(r, ("a", 0.9))
    done = _finished(r.session.resume("yes"))
    assert done.status == "refused" and done.steps == 0 and done.acted_on is None and done.asked == 1
    assert "red cube" in done.message and "blue ball" in done.message and "won't move" in done.message
    assert _checks(r)[-1] == (False, "stop") and done.self_check_disagreements == 3
    assert _unmoved(r, before)


def test_no_does_not_take_the_object_it_understood(rig: Callable[..., Rig]) -> None:
    r = rig()
    before = r.positions()
    _wrong_then(r, ("d", 0.9))
    done = _finished(r.session.resume("no"))
    assert done.steps == 0 and done.acted_on is None and done.asked == 1 and not done.success
    assert _unmoved(r, before)


def test_an_unusable_answer_gets_one_rephrased_question(rig: Callable[..., Rig]) -> None:
    r = rig()
    _wrong_then(r, ("a", 0.9), ("d", 0.9))  # still wrong after the unusable answer
    again = r.session.resume("hmm, banana")
    assert isinstance(again, Question) and again.yes_no
    assert again.text == "Should I take the blue ball? Sorry, I didn't get that; please say yes or no."
    done = _finished(r.session.resume("yes"))
    assert (done.success, done.acted_on, done.asked) == (True, "d", 2)


def test_box_on_the_look_alike_names_which_one(rig: Callable[..., Rig], caplog: Any) -> None:
    caplog.set_level(logging.WARNING)
    r = rig()
    _with_policy(r, [("b", 0.9)])
    question = r.session.start("pick up the red cube on the right")
    assert isinstance(question, Question)
    assert question.text == ("My policy is reaching for the red cube on the left, but I understood the red "
                             "cube on the right. Should I take the red cube on the right?")
    assert [c.sim_id for c in question.candidates] == ["a"]
    assert r.session.values()["self_checks"][0].verdict.reason == "box"  # checkpointed and read back
    assert not [m for m in caplog.messages if "unregistered type" in m]


def test_low_confidence_asks_and_a_yes_vouches_for_the_target(rig: Callable[..., Rig]) -> None:
    r = rig()
    _with_policy(r, [("d", 0.2)])
    question = r.session.start("pick up the blue ball")
    assert isinstance(question, Question) and "unsure" in question.text and "blue ball" in question.text
    done = _finished(r.session.resume("yes"))
    assert (done.success, done.acted_on, done.asked, done.reperceptions) == (True, "d", 1, 1)
    assert _checks(r) == [(False, "look_again"), (False, "ask"), (False, "vouched")]


def test_confidence_threshold_is_configured_through_the_context(rig: Callable[..., Rig]) -> None:
    r = rig()
    _with_policy(r, [("d", 0.2)])
    settings = r.session.context.settings
    r.session.context.settings = replace(settings, self_check=SelfCheckSettings(min_confidence=0.1))
    done = _finished(r.session.start("pick up the blue ball"))
    assert (done.success, done.asked, done.reperceptions, done.self_check_disagreements) == (True, 0, 0, 0)


def test_after_an_answer_it_requeries_in_place_instead_of_asking_the_same_again(rig: Callable[..., Rig]) -> None:
    """A second look would renumber the objects the person's answer referred to."""
    r = rig()
    policy = _with_policy(r, [("b", 0.9), ("b", 0.9), ("a", 0.9)])
    which = r.session.start("put the red cube in the green bowl")
    assert isinstance(which, Question) and not which.yes_no
    check = r.session.resume("the one on the right")
    assert isinstance(check, Question) and check.yes_no and "the red cube on the left" in check.text
    assert policy.resets == 2 and _checks(r) == [(False, "requery"), (False, "ask")]
    done = _finished(r.session.resume("yes"))
    assert (done.success, done.acted_on, done.asked, done.reperceptions) == (True, "a", 2, 0)


def test_report_counts_self_check_disagreements() -> None:
    rows = [EpisodeResult(name="a", passed=True, success=True, self_check_disagreements=2),
            EpisodeResult(name="b", passed=True, success=True)]
    report = build_report(rows)
    assert report.summary.self_check_disagreements == 2
    assert "self_check_disagreements 2" in format_table(report)
    assert "self_check_disagreements" not in format_table(build_report(rows[1:]))


def test_settings_default_thresholds() -> None:
    s = AgentSettings().self_check
    assert (s.min_iou, s.min_confidence, s.max_retries) == (0.3, 0.5, 1)
