"""The simulated person answers so that the robot's own answer reader finds the intended object."""

from __future__ import annotations

import pytest

from agent.dialogue import interpret_answer
from agent.scenario import UserSpec
from agent.simulated_user import NEVER_MIND, SimulatedUser
from agent.suites import make_scenario
from perception.types import PerceivedObject
from sim.scene import ObjectSpec, SceneSpec


def _scene(viewpoint: str = "user") -> SceneSpec:
    return SceneSpec(viewpoint=viewpoint, objects=[  # type: ignore[arg-type]
        ObjectSpec(id="a", shape="cube", color="red", size="small", position=(0.55, 0.12)),
        ObjectSpec(id="b", shape="cube", color="red", size="small", position=(0.55, -0.12)),
        ObjectSpec(id="c", shape="bowl", color="green", position=(0.45, 0.0)),
        ObjectSpec(id="d", shape="ball", color="blue", size="large", position=(0.40, 0.15)),
    ])


def _user(pick: str = "a", **extra: object) -> UserSpec:
    return UserSpec.model_validate({"intent": {"pick": pick, "place": "c"}, "patience": 5, **extra})


def _perceived(scene: SceneSpec, ids: list[str]) -> list[PerceivedObject]:
    out = []
    for i, oid in enumerate(ids, start=1):
        o = scene.get(oid)
        out.append(PerceivedObject(index=i, color=o.color, shape=o.shape, size=o.size, position=(*o.position, 0.02),
                                   box=(0, 0, 1, 1), sim_id=oid))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_user_viewpoint_plus_y_is_the_persons_right(seed: int) -> None:
    user = SimulatedUser(_user("a"), _scene("user"), seed=seed)
    answer = user.answer("Do you mean the red cube on the left or the one on the right?", ["b", "a"])
    assert "left" not in answer
    reading = interpret_answer(answer, _perceived(_scene(), ["b", "a"]), "user")
    assert reading.kind == "choose" and reading.picks == [2], answer


def test_robot_viewpoint_flips_left_and_right() -> None:
    answers = {SimulatedUser(_user("a"), _scene("robot"), seed=s).answer("Which one?", ["a", "b"]) for s in range(8)}
    lateral = [a for a in answers if "left" in a or "right" in a]
    assert lateral and all("left" in a for a in lateral)


def test_names_what_differs_among_the_candidates_shown() -> None:
    # Among a red cube and a blue ball, colour or shape is enough: no need for positions.
    for seed in range(8):
        answer = SimulatedUser(_user("d"), _scene(), seed=seed).answer("Which one?", ["a", "d"])
        reading = interpret_answer(answer, _perceived(_scene(), ["a", "d"]), "user")
        assert reading.picks == [2], answer


def test_scripted_replies_come_first_then_patience_runs_out() -> None:
    user = SimulatedUser(_user("a", replies=["the one on the right"], patience=2), _scene(), seed=0)
    assert user.answer("Which one?", ["a", "b"]) == "the one on the right"
    assert user.answer("Which one?", ["a", "b"]) not in ("", NEVER_MIND)
    assert user.answer("Which one?", ["a", "b"]) == NEVER_MIND and user.gave_up


def test_yes_no_questions_are_answered_truthfully() -> None:
    user = SimulatedUser(_user("a"), _scene(), seed=3)
    assert user.answer("Do you mean the red cube on the right?", ["a"]).startswith("yes")
    assert user.answer("Do you mean the red cube on the left?", ["b"]) == "no, the other one"
    assert user.answer("Should I pick up the blue ball?", []).startswith("no")


def test_question_about_the_place_answers_with_the_place() -> None:
    scene = SceneSpec(objects=[  # type: ignore[arg-type]
        ObjectSpec(id="a", shape="cube", color="red", position=(0.55, 0.0)),
        ObjectSpec(id="c", shape="bowl", color="green", position=(0.45, 0.15)),
        ObjectSpec(id="e", shape="bowl", color="green", position=(0.45, -0.15)),
    ])
    user = SimulatedUser(_user("a"), scene, seed=1)
    answer = user.answer("Which bowl: the one on the left or the one on the right?", ["e", "c"])
    reading = interpret_answer(answer, _perceived(scene, ["e", "c"]), "user")
    assert reading.picks == [2], answer


def test_interjections_fire_once_at_their_step() -> None:
    user = SimulatedUser(_user("a", interjections=[{"after_step": 5, "say": "stop"}]), _scene())
    assert [user.poll(s) for s in range(8)] == [None] * 5 + ["stop", None, None]


@pytest.mark.parametrize("seed", range(20))
def test_answers_in_ambiguous_suite_single_out_the_intended_object(seed: int) -> None:
    scenario = make_scenario("ambiguous", seed)
    meant = scenario.scene.get(scenario.user.intent.place or scenario.user.intent.pick)
    look_alikes = [o.id for o in scenario.scene.objects if (o.color, o.shape) == (meant.color, meant.shape)]
    assert len(look_alikes) >= 2
    answer = SimulatedUser(scenario.user, scenario.scene, seed=seed).answer("Which one?", look_alikes)
    reading = interpret_answer(answer, _perceived(scenario.scene, look_alikes), scenario.scene.viewpoint)
    assert reading.kind == "choose" and reading.picks == [look_alikes.index(meant.id) + 1], answer


def test_wording_varies_with_seed() -> None:
    answers = {SimulatedUser(_user("a"), _scene(), seed=s).answer("Which one?", ["a", "b", "d"]) for s in range(10)}
    assert len(answers) >= 2


def test_told_the_question_is_about_the_place_it_describes_the_place() -> None:
    scene = SceneSpec(objects=[  # type: ignore[arg-type]
        ObjectSpec(id="a", shape="cube", color="red", position=(0.55, 0.0)),
        ObjectSpec(id="c", shape="bowl", color="green", position=(0.45, 0.15)),
        ObjectSpec(id="e", shape="bowl", color="green", position=(0.45, -0.15)),
    ])
    answer = SimulatedUser(_user("a"), scene, seed=2).answer("Which one?", ["c", "e"], about="place")
    assert interpret_answer(answer, _perceived(scene, ["c", "e"]), "user").picks == [1], answer


def test_asking_for_something_absent_the_person_rejects_every_offer() -> None:
    user = SimulatedUser(UserSpec.model_validate({"intent": {"pick": None}}), _scene(), seed=0)
    assert user.answer("Do you mean the red cube? I see a red cube, not a white cube.", ["a"], yes_no=True) == "no"
    assert user.answer("Which one?", ["a", "b"]) in ("no, none of those", "neither of them")
