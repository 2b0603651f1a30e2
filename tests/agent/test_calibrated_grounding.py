"""Conformal prediction sets and the SigLIP check wired into the agent: a singleton set is acted
on, several members are asked about (exactly those), an empty set means one more look and then
saying what it cannot find; the runner finds the trained checker and calibration by itself."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from agent.driver import Finished, Question
from agent.runner import RunConfig, SharedModels, run_scenario
from agent.suites import make_scenario
from perception.conformal import DEFAULT_CALIBRATION, ConformalCalibration
from perception.siglip import DEFAULT_CHECKPOINT
from tests.agent.test_graph_scenarios import Rig, rig  # noqa: F401 (pytest fixture)


def _calibration(threshold: float) -> ConformalCalibration:
    return ConformalCalibration(epsilon=0.1, qhat=1.0 - threshold, n_calibration=100)


def test_calibrated_set_with_two_members_asks_about_exactly_those(rig: Callable[..., Rig]) -> None:
    r = rig()
    r.session.context.calibration = _calibration(0.3)
    question = r.session.start("pick up the red cube")
    assert isinstance(question, Question)
    assert sorted(c.sim_id for c in question.candidates) == ["a", "b"]
    done = r.session.resume("the one on the right")
    assert isinstance(done, Finished) and done.success and done.acted_on == "a"


def test_calibrated_singleton_is_acted_on(rig: Callable[..., Rig]) -> None:
    r = rig()
    r.session.context.calibration = _calibration(0.3)
    done = r.session.start("pick up the blue ball")
    assert isinstance(done, Finished) and done.success and done.asked == 0


def test_empty_calibrated_set_looks_again_then_says_what_it_cannot_find(rig: Callable[..., Rig]) -> None:
    r = rig()
    r.session.context.calibration = _calibration(0.999)  # nothing ever reaches it
    done = r.session.start("pick up the blue ball")
    assert isinstance(done, Finished) and done.status == "refused" and done.steps == 0
    assert done.reperceptions == 1 and done.asked == 0
    assert done.message == "I can't see a blue ball, so I won't move."


@pytest.mark.skipif(not Path(DEFAULT_CHECKPOINT).is_dir() or not Path(DEFAULT_CALIBRATION).is_file(),
                    reason="needs the trained SigLIP checkpoint and the conformal calibration")
def test_runner_uses_the_trained_checker_and_calibration_by_default(tmp_path: Path) -> None:
    models = SharedModels(RunConfig())
    assert models.consistency() is not None and models.calibration() is not None
    result = run_scenario(make_scenario("unambiguous", 0), RunConfig(), tmp_path, models=models)
    assert result.error is None
    events = [json.loads(line) for line in Path(result.transcript).read_text().splitlines()]
    grounding = next(e for e in events if e["kind"] == "grounding")
    assert grounding["data"]["consistency"] is not None  # the SigLIP score was computed before acting


@dataclass
class _Verdict:
    score: float
    consistent: bool
    seen_color: str
    words: str = ""

    def explain(self) -> str:
        return f"I see a {self.seen_color} thing, not {self.words}."


@dataclass
class _ShapeOrColourDoubter:
    """Stands in for SigLIP: always doubts, seeing ``seen_color`` (records what it was asked)."""

    seen_color: str
    asked: list[str] = field(default_factory=list)

    def check_objects(self, expression: str, rgb: Any, target: Any, others: Any = ()) -> _Verdict:
        self.asked.append(expression)
        return _Verdict(0.05, False, self.seen_color, expression)


def test_shape_doubt_alone_does_not_overrule_sure_geometry(rig: Callable[..., Rig]) -> None:
    r = rig()
    checker = _ShapeOrColourDoubter(seen_color="blue")  # colour agrees: only the shape is doubted
    r.session.context.consistency = checker
    done = r.session.start("pick up the blue sphere")
    assert isinstance(done, Finished) and done.success and done.asked == 0 and done.reperceptions == 0
    assert checker.asked == ["a blue ball"]  # only what a crop can show: colour and shape


def test_colour_doubt_still_looks_again_then_asks(rig: Callable[..., Rig]) -> None:
    r = rig()
    r.session.context.consistency = _ShapeOrColourDoubter(seen_color="purple")
    question = r.session.start("pick up the blue ball")
    assert isinstance(question, Question) and question.yes_no
    done = r.session.resume("yes")
    assert isinstance(done, Finished) and done.success and done.reperceptions == 1 and done.asked == 1
