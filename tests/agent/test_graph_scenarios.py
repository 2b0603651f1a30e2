"""Correction dialogues end to end: real PyBullet sim, real perception and grounder, the agent
graph with a SQLite checkpointer, and the (privileged) scripted expert moving the arm."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import pytest

from agent.context import AgentContext, AgentSettings
from agent.driver import AgentSession, Finished, Question
from agent.executors import ExpertExecutor
from agent.runner import RunConfig
from agent.transcript import TranscriptWriter, read_transcript
from perception.grounding import Grounder
from perception.proposals import perceive
from perception.types import SceneObservation
from sim.scene import ObjectSpec, SceneSpec
from sim.tabletop_env import TabletopEnv
from sim.tasks import TaskSpec

# Person's view (user viewpoint): +y is their right, so "a" is the red cube on the right.
SCENE = SceneSpec(objects=[
    ObjectSpec(id="a", shape="cube", color="red", size="small", position=(0.55, 0.12)),
    ObjectSpec(id="b", shape="cube", color="red", size="small", position=(0.55, -0.12)),
    ObjectSpec(id="c", shape="bowl", color="green", position=(0.45, 0.0)),
    ObjectSpec(id="d", shape="ball", color="blue", size="medium", position=(0.63, 0.0)),
])
IMAGE_SIZE = 96  # the policy's frame; perception looks at RunConfig.perception_size


@dataclass
class Script:
    """Interjection source: says each (step, words) once when the control loop reaches step."""

    lines: list[tuple[int, str]] = field(default_factory=list)

    def poll(self, step: int) -> Optional[str]:
        for i, (at, words) in enumerate(self.lines):
            if step >= at:
                return self.lines.pop(i)[1]
        return None


@dataclass
class Rig:
    env: TabletopEnv
    session: AgentSession
    transcript: TranscriptWriter
    said: list[str]

    def positions(self) -> dict[str, np.ndarray]:
        return {k: p.position.copy() for k, p in self.env.object_poses().items()}

    def ee(self) -> np.ndarray:
        return self.env.arm.get_state()[:3].copy()


def make_rig(tmp_path: Path, *, interjections: Optional[Script] = None, session_id: str = "s1",
             look: Optional[Callable[[SceneObservation, int], SceneObservation]] = None,
             scene: SceneSpec = SCENE) -> Rig:
    # Perception looks at the detailed frame, as the runner's agent does (RunConfig.perception_size).
    env = TabletopEnv(image_size=IMAGE_SIZE, detail_size=RunConfig().perception_size)
    env.reset(seed=0, options={"scene": scene, "task": TaskSpec(pick="a", place="c")})
    looks = [0]

    def see(obs: dict[str, Any]) -> SceneObservation:
        seen = perceive(obs, viewpoint=scene.viewpoint, labels=env.arm.segmentation_labels)
        looks[0] += 1
        return look(seen, looks[0]) if look else seen

    said: list[str] = []
    transcript = TranscriptWriter(session_id, tmp_path / f"{session_id}.jsonl")
    context = AgentContext(
        arm=env.arm, perceive=see, grounder=Grounder(), executor=ExpertExecutor(env), transcript=transcript,
        settings=AgentSettings(max_control_steps=200), interjections=interjections or Script(),
        say=said.append,
    )
    return Rig(env, AgentSession(context, session_id, tmp_path / "checkpoints.sqlite"), transcript, said)


@pytest.fixture
def rig(tmp_path: Path) -> Any:
    made: list[Rig] = []

    def build(**kwargs: Any) -> Rig:
        made.append(make_rig(tmp_path, **kwargs))
        return made[-1]

    yield build
    for r in made:
        r.session.close()
        r.env.close()


def _finished(turn: Any) -> Finished:
    assert isinstance(turn, Finished), f"expected the instruction to end, got {turn}"
    return turn


def test_unambiguous_request_acts_without_asking(rig: Callable[..., Rig]) -> None:
    r = rig()
    done = _finished(r.session.start("put the blue ball in the green bowl"))
    assert (done.success, done.acted_on, done.asked) == (True, "d", 0)
    assert done.steps > 0 and done.verified


def test_two_red_cubes_one_question_naming_the_difference(rig: Callable[..., Rig]) -> None:
    r = rig()
    question = r.session.start("put the red cube in the green bowl")
    assert isinstance(question, Question)
    assert sorted(c.sim_id for c in question.candidates) == ["a", "b"]
    assert "left" in question.text and "right" in question.text
    done = _finished(r.session.resume("the one on the right"))
    assert (done.success, done.acted_on, done.asked) == (True, "a", 1)
    assert done.questions == [question.text]


def test_two_bowls_one_question_about_where(rig: Callable[..., Rig]) -> None:
    scene = SceneSpec(objects=[
        ObjectSpec(id="a", shape="cube", color="red", size="small", position=(0.62, 0.0)),
        ObjectSpec(id="c", shape="bowl", color="green", position=(0.45, 0.14)),
        ObjectSpec(id="e", shape="bowl", color="green", position=(0.45, -0.14)),
    ])
    r = rig(scene=scene)
    question = r.session.start("put the red cube in the green bowl")
    assert isinstance(question, Question) and question.about == "place"
    assert question.text == "Should I put it in the green bowl on the left or the one on the right?"
    done = _finished(r.session.resume("the left one"))  # -y is the person's left: bowl e
    assert (done.success, done.acted_on, done.asked) == (True, "a", 1)
    assert np.linalg.norm(r.positions()["a"][:2] - r.positions()["e"][:2]) < 0.05


def test_no_the_other_one_mid_motion_switches_target(rig: Callable[..., Rig]) -> None:
    r = rig(interjections=Script([(8, "no, the other one")]))
    start = r.positions()
    r.session.start("put the red cube in the green bowl")
    done = _finished(r.session.resume("the left one"))  # b, then corrected to a
    assert (done.success, done.acted_on) == (True, "a")
    assert np.linalg.norm(r.positions()["b"][:2] - start["b"][:2]) < 0.02  # b left where it was
    kinds = [e.kind for e in r.transcript.events]
    assert kinds.index("interjection") < len(kinds) - 1
    assert any("other one" in s for s in r.said)


def test_no_the_other_one_after_a_wrong_guess(rig: Callable[..., Rig]) -> None:
    r = rig()
    first = _finished(r.session.start("put the red cube on the left in the green bowl"))
    assert first.acted_on == "b"
    before = r.positions()["a"]
    again = _finished(r.session.start("no, the other one"))
    # It goes for the other red cube without asking (whether it still fits in the bowl, now
    # holding b, is physics, not dialogue).
    assert (again.acted_on, again.asked) == ("a", 0) and again.steps > 0
    assert np.linalg.norm(r.positions()["a"][:2] - before[:2]) > 0.05


def test_the_other_one_with_nothing_done_yet_asks_what_to_do(rig: Callable[..., Rig]) -> None:
    r = rig()
    done = _finished(r.session.start("no, the other one"))
    assert done.status == "refused" and done.steps == 0 and "What should I do?" in done.message


def test_stop_halts_the_arm_within_one_control_step(rig: Callable[..., Rig]) -> None:
    r = rig(interjections=Script([(6, "stop!")]))
    r.session.start("put the red cube in the green bowl")
    done = _finished(r.session.resume("the right one"))
    assert done.status == "stopped" and not done.success
    assert done.steps == 7  # six motion steps, then the hold
    actions = [e for e in r.transcript.events if e.kind == "action"]
    assert actions[-1].text == "hold" and np.allclose(actions[-1].data["sent"][:6], 0.0)
    here = r.ee()
    for _ in range(3):
        r.env.arm.send_action(np.asarray([0, 0, 0, 0, 0, 0, actions[-1].data["sent"][6]], np.float32))
    assert np.linalg.norm(r.ee() - here) < 0.01  # metres: it stays put


def test_unknown_object_explains_and_does_not_move(rig: Callable[..., Rig]) -> None:
    r = rig()
    before, ee = r.positions(), r.ee()
    done = _finished(r.session.start("pick up the purple elephant"))
    assert done.status == "refused" and done.steps == 0 and done.acted_on is None
    assert "can't see" in done.message and "purple elephant" in done.message
    assert np.allclose(r.ee(), ee, atol=1e-3)
    assert all(np.allclose(before[k], p, atol=1e-3) for k, p in r.positions().items())


def test_never_mind_ends_politely_without_motion(rig: Callable[..., Rig]) -> None:
    r = rig()
    before = r.positions()
    assert isinstance(r.session.start("pick up the red cube"), Question)
    done = _finished(r.session.resume("never mind"))
    assert done.status == "cancelled" and done.steps == 0
    assert all(np.allclose(before[k], p, atol=1e-3) for k, p in r.positions().items())


def test_two_unusable_answers_rephrase_then_stop_safely(rig: Callable[..., Rig]) -> None:
    r = rig()
    first = r.session.start("pick up the red cube")
    second = r.session.resume("hmm, banana")
    assert isinstance(first, Question) and isinstance(second, Question)
    assert second.text != first.text and "left" in second.text
    done = _finished(r.session.resume("purple monkey dishwasher"))
    assert done.status == "gave_up" and done.steps == 0 and done.asked == 2
    assert "won't" in done.message or "without moving" in done.message


def _misread(obj_id: str, persist: bool) -> Callable[[SceneObservation, int], SceneObservation]:
    """A colour-cast misreading of one object: seen orange, no belief left in its true colour."""

    def look(scene: SceneObservation, n: int) -> SceneObservation:
        if n > 1 and not persist:
            return scene
        objects = [o.model_copy(update={"color": "orange", "color_scores": {"orange": 1.0}})
                   if o.sim_id == obj_id else o for o in scene.objects]
        return scene.model_copy(update={"objects": objects})

    return look


def test_misread_colour_looks_again_then_acts_without_asking(rig: Callable[..., Rig]) -> None:
    r = rig(look=_misread("d", persist=False))
    done = _finished(r.session.start("pick up the blue ball"))
    assert (done.success, done.acted_on, done.reperceptions, done.asked) == (True, "d", 1, 0)


def test_persistent_misread_asks_yes_no_after_looking_again(rig: Callable[..., Rig]) -> None:
    r = rig(look=_misread("d", persist=True))
    question = r.session.start("pick up the blue ball")
    assert isinstance(question, Question) and question.yes_no
    assert "orange ball" in question.text and "blue ball" in question.text
    assert [c.sim_id for c in question.candidates] == ["d"]
    done = _finished(r.session.resume("yes"))
    assert (done.success, done.acted_on, done.reperceptions, done.asked) == (True, "d", 1, 1)


def test_killed_after_question_resumes_from_sqlite_with_dialogue(tmp_path: Path, caplog: Any) -> None:
    caplog.set_level(logging.WARNING)
    first = make_rig(tmp_path, session_id="kill-me")
    question = first.session.start("put the red cube in the green bowl")
    assert isinstance(question, Question)
    first.session.close()
    first.env.close()
    del first  # every live object is gone: only the SQLite file and the transcript remain

    second = make_rig(tmp_path, session_id="kill-me")  # fresh sim, arm, models, context
    try:
        pending = second.session.pending()
        assert pending is not None and pending.text == question.text
        done = _finished(second.session.resume("the one on the right"))
        assert (done.success, done.acted_on, done.asked) == (True, "a", 1)
        lines = [(t.who, t.kind, t.text) for t in second.session.dialogue()]
        assert lines[:3] == [("user", "instruction", "put the red cube in the green bowl"),
                             ("robot", "question", question.text), ("user", "answer", "the one on the right")]
    finally:
        second.session.close()
        second.env.close()
    events = read_transcript(tmp_path / "kill-me.jsonl")
    assert [e.seq for e in events] == list(range(len(events)))
    assert events[0].kind == "utterance" and events[-1].kind == "outcome"
    assert not [m for m in caplog.messages if "unregistered type" in m]


def test_phantom_target_fails_without_moving(rig: Callable[..., Rig]) -> None:
    def ghost(scene: SceneObservation, n: int) -> SceneObservation:
        ball = next(o for o in scene.objects if o.sim_id == "d")
        fake = ball.model_copy(update={"index": len(scene.objects) + 1, "sim_id": None, "color": "green",
                                       "color_scores": {"green": 1.0},
                                       "position": (ball.position[0], ball.position[1] + 0.1, ball.position[2])})
        return scene.model_copy(update={"objects": [*scene.objects, fake]})

    r = rig(look=ghost)
    done = _finished(r.session.start("pick up the green ball"))
    assert done.status == "failed" and done.steps == 0 and done.acted_on is None
    assert "not really there" in done.message


@dataclass
class Verdict:
    score: float
    consistent: bool

    def explain(self) -> str:
        return "It does not look like what you said."


@dataclass
class DoubtfulChecker:
    """Stands in for the SigLIP check: doubts the first ``doubts`` checks, then agrees."""

    doubts: int
    calls: int = 0

    def check_objects(self, expression: str, rgb: Any, target: Any, others: Any = ()) -> Verdict:
        self.calls += 1
        return Verdict(0.05, False) if self.calls <= self.doubts else Verdict(0.9, True)


@pytest.mark.parametrize(("doubts", "asked"), [(1, 0), (5, 1)])
def test_language_vision_disagreement_looks_again_then_asks(rig: Callable[..., Rig], doubts: int, asked: int) -> None:
    r = rig()
    checker = DoubtfulChecker(doubts)
    r.session.context.consistency = checker
    turn = r.session.start("pick up the blue ball")
    if asked:
        assert isinstance(turn, Question) and turn.yes_no and "does not look like" in turn.text
        turn = r.session.resume("yes")
    done = _finished(turn)
    assert (done.acted_on, done.reperceptions, done.asked) == ("d", 1, asked)
    assert checker.calls == 2  # once per look; not again after the person confirmed


def test_patience_runs_out_politely(rig: Callable[..., Rig]) -> None:
    r = rig()
    r.session.context.settings = AgentSettings(max_questions=1)
    assert isinstance(r.session.start("pick up the red cube"), Question)
    done = _finished(r.session.resume("hmm"))
    assert done.status == "gave_up" and done.asked == 1 and done.steps == 0
