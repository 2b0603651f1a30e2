"""The simulated person's corrections: a follow-up ('then') after its line, only what is wrong
corrected, and an answer to "what should I do instead?" the robot's reader understands."""

from __future__ import annotations

from agent.interjection import read_interjection
from agent.scenario import UserSpec
from agent.simulated_user import SimulatedUser
from sim.scene import ObjectSpec, SceneSpec

SCENE = SceneSpec(objects=[  # type: ignore[arg-type]
    ObjectSpec(id="a", shape="cube", color="red", size="small", position=(0.55, -0.12)),
    ObjectSpec(id="b", shape="cube", color="blue", size="small", position=(0.55, 0.12)),
    ObjectSpec(id="g", shape="bowl", color="green", position=(0.42, 0.12)),
    ObjectSpec(id="r", shape="bowl", color="red", position=(0.42, -0.12)),
])


def _person(say: str, after: int = 5, **extra: object) -> SimulatedUser:
    spec = UserSpec.model_validate({"intent": {"pick": "b", "place": "g"},
                                    "interjections": [{"after_step": after, "say": say, **extra}]})
    return SimulatedUser(spec, SCENE)


def test_a_follow_up_is_said_its_steps_after_the_line() -> None:
    person = _person("wait", then={"after": 3, "say": "ok, go on"})
    assert [person.poll(s) for s in range(12)] == [None] * 5 + ["wait", None, None, "ok, go on"] + [None] * 3


def test_a_follow_up_of_a_line_said_after_the_motion_is_the_next_line() -> None:
    person = _person("wait", after=100_000, then={"after": 20, "say": "carry on"})
    assert [person.poll(s) for s in range(0, 50, 10)] == [None] * 5
    assert [person.poll(10**9), person.poll(10**9), person.poll(10**9)] == ["wait", "carry on", None]


def test_only_what_is_wrong_is_corrected() -> None:
    right_pick = _person("no, the blue one")
    right_pick.watching = "b"
    assert right_pick.poll(10) is None
    wrong_pick = _person("no, the blue one")
    wrong_pick.watching = "a"
    assert wrong_pick.poll(10) == "no, the blue one"
    right_place = _person("put it in the green bowl instead")
    right_place.watching, right_place.watching_place = "b", "g"
    assert right_place.poll(10) is None


def test_asked_what_instead_the_person_says_what_is_wrong() -> None:
    person = _person("no!")
    person.watching = "a"
    said = person.answer("Sorry, I stopped. What should I do instead?", [], about="correction")
    reading = read_interjection(said, answering=True)
    assert reading is not None and reading.kind == "referent" and "blue cube" in reading.words
    person.watching, person.watching_place = "b", "r"
    said = person.answer("Sorry, I stopped. What should I do instead?", [], about="correction")
    reading = read_interjection(said, answering=True)
    assert reading is not None and (reading.kind, reading.words) == ("destination", "the green bowl")
    person.watching_place = "g"
    reading = read_interjection(person.answer("What should I do instead?", [], about="correction"), answering=True)
    assert reading is not None and reading.kind == "resume"
