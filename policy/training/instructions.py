"""Language for demonstrations: instruction paraphrases, clarified dialogues, truth reasoning.

Everything here is pure text built from a scene (anything shaped like :class:`NamedScene`, such
as ``sim.scene.SceneSpec``, which this module does not import) and the task's ids, so the data
collector (agent side, with the simulator) and the evaluator say things the same way. Spatial
words follow ``scene.viewpoint`` (``user``: the person faces the robot, their left is -y).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol, Sequence

import numpy as np

from policy.model.cot_format import describe_move, format_prompt, side_phrase
from policy.types import ReasonedObject, Reasoning

#: People say "block" for a cube, "sphere" for a ball.
SHAPE_WORDS: dict[str, tuple[str, ...]] = {
    "cube": ("cube", "block"),
    "ball": ("ball", "sphere"),
    "cylinder": ("cylinder",),
    "bowl": ("bowl",),
}
PICK_TEMPLATES = ("pick up the {o}", "lift the {o}", "grab the {o}", "pick the {o} up", "take the {o}")
PLACE_TEMPLATES = {
    "in": ("put the {o} in the {p}", "place the {o} into the {p}", "drop the {o} in the {p}",
           "move the {o} into the {p}"),
    "on": ("put the {o} on the {p}", "place the {o} on top of the {p}", "stack the {o} on the {p}",
           "set the {o} onto the {p}"),
}
#: Same words as the agent's rewritten instructions (agent/nodes_act.py).
RELATION_WORDS = {"left_of": "to the left of", "right_of": "to the right of", "in_front_of": "in front of",
                  "behind": "behind", "next_to": "next to"}


class NamedObject(Protocol):
    """An object as the words see it (``sim.scene.ObjectSpec`` is one)."""

    id: str
    shape: str  # vocab.words.SHAPES
    color: str  # vocab.words.COLOR_NAMES
    size: str  # vocab.words.SIZES
    position: Sequence[float]  # (x, y) metres, robot base frame


class NamedScene(Protocol):
    """A scene as the words see it (``sim.scene.SceneSpec`` is one)."""

    viewpoint: str  # vocab.words.Viewpoint: whose left/right the words mean
    objects: Sequence[NamedObject]

    def get(self, obj_id: str) -> NamedObject: ...


@dataclass(frozen=True)
class TaskWords:
    """The task by object ids (mirrors sim.tasks.TaskSpec without importing it)."""

    pick: str
    place: Optional[str] = None
    relation: str = "in"


def name(obj: NamedObject) -> str:
    """Canonical 'red cube' (the words the reasoning uses)."""
    return f"{obj.color} {obj.shape}"


def _side(scene: NamedScene, obj: NamedObject, other: NamedObject) -> str:
    """Where ``obj`` is next to ``other``, in the words' viewpoint, along the axis that sets them
    further apart: 'left'/'right' across the table (the robot's y), else 'front'/'back' along it
    (front: nearer the speaker; the person across the table is at +x, the robot at -x). Twins
    one behind the other (seed 55 of ``main.py eval``: 19 cm apart in x, 0.3 mm in y) are not
    told apart by left or right."""
    dx, dy = (float(a - b) for a, b in zip(obj.position[:2], other.position[:2]))
    if abs(dy) >= abs(dx):
        robot_left = dy > 0
        return ("left" if robot_left else "right") if scene.viewpoint == "robot" else ("right" if robot_left else "left")
    nearer_robot = dx < 0
    return "front" if nearer_robot == (scene.viewpoint == "robot") else "back"


def _side_question(side: str) -> str:
    return "the left or the right one?" if side in ("left", "right") else "the front or the back one?"


def _twin_side(scene: NamedScene, obj: NamedObject) -> str:
    """' on the left' / ' at the back' when ``obj`` has a same-named twin, else ''."""
    twins = [o for o in scene.objects if o.id != obj.id and name(o) == name(obj)]
    return f" {side_phrase(_side(scene, obj, twins[0]))}" if twins else ""


def task_sentence(scene: NamedScene, task: TaskWords, pick_words: Optional[str] = None, place_words: Optional[str] = None) -> str:
    """Canonical sentence: 'pick up the red cube' / 'put the red cube in the green bowl'."""
    o = pick_words or name(scene.get(task.pick))
    if task.place is None:
        return f"pick up the {o}"
    p = place_words or name(scene.get(task.place))
    if task.relation in PLACE_TEMPLATES:
        return f"put the {o} {'in' if task.relation == 'in' else 'on'} the {p}"
    return f"put the {o} {RELATION_WORDS[task.relation]} the {p}"


def _sentence(rng: np.random.Generator, task: TaskWords, o: str, p: Optional[str]) -> str:
    if task.place is None:
        return str(rng.choice(PICK_TEMPLATES)).format(o=o)
    if task.relation in PLACE_TEMPLATES:
        return str(rng.choice(PLACE_TEMPLATES[task.relation])).format(o=o, p=p)
    return f"put the {o} {RELATION_WORDS[task.relation]} the {p}"


def _spoken(rng: np.random.Generator, obj: NamedObject) -> str:
    return f"{obj.color} {rng.choice(SHAPE_WORDS[obj.shape])}"


def _clarified(scene: NamedScene, obj: NamedObject, rng: np.random.Generator) -> Optional[tuple[str, tuple[str, str]]]:
    """(vague words, (question, answer)) that pin ``obj`` down, or None if the words are unique."""
    same_shape = [o for o in scene.objects if o.shape == obj.shape and o.id != obj.id]
    twins = [o for o in same_shape if o.color == obj.color]
    if twins:
        side = _side(scene, obj, twins[0])
        return name(obj), (_side_question(side), f"the {side} one")
    if same_shape:
        other = same_shape[0]
        colours = [obj.color, other.color]
        rng.shuffle(colours)
        word = str(rng.choice(SHAPE_WORDS[obj.shape]))
        return word, (f"which {word}, the {colours[0]} one or the {colours[1]} one?", f"the {obj.color} one")
    return None


def prompt_variants(scene: NamedScene, task: TaskWords, rng: np.random.Generator, n_paraphrases: int = 3) -> list[str]:
    """Prompts that all mean ``task``: canonical, paraphrases, and clarified dialogues.

    A clarified variant is a vague instruction plus the question the agent would ask and the
    person's answer, e.g. 'put the cube in the bowl | Q: which cube, ... ? A: the red one'.
    """
    pick = scene.get(task.pick)
    place = scene.get(task.place) if task.place else None
    # With a twin every sentence names the side, as the agent's own rewrite of an ambiguous
    # request does ('the red cube on the left'): words that fit both twins cannot teach which
    # box the TARGET is.
    side = _twin_side(scene, pick)
    variants = {format_prompt(task_sentence(scene, task, pick_words=name(pick) + side))}
    for _ in range(n_paraphrases):
        o = _spoken(rng, pick) + side
        p = _spoken(rng, place) if place is not None else None
        variants.add(format_prompt(_sentence(rng, task, o, p)))
    clar = _clarified(scene, pick, rng)
    if clar is not None:
        words, turn = clar
        p = _spoken(rng, place) if place is not None else None
        variants.add(format_prompt(_sentence(rng, task, words, p), [turn]))
    if place is not None:
        clar_place = _clarified(scene, place, rng)
        if clar_place is not None:
            words, turn = clar_place
            variants.add(format_prompt(_sentence(rng, task, _spoken(rng, pick), words), [turn]))
    return sorted(variants)


def plan_steps(scene: NamedScene, task: TaskWords) -> list[str]:
    o = name(scene.get(task.pick))
    steps = [f"reach the {o}", "grasp it", "lift it"]
    if task.place is not None:
        p = name(scene.get(task.place))
        where = "above" if task.relation in ("in", "on") else RELATION_WORDS[task.relation]
        steps += [f"move {where} the {p}", "lower it", "release it"]
    return steps


def truth_reasoning(
    scene: NamedScene,
    task: TaskWords,
    boxes: dict[str, tuple[float, float, float, float]],
    phase: str,
    chunk: np.ndarray,
) -> Reasoning:
    """Reasoning from simulator truth.

    boxes: object id -> normalised (x0, y0, x1, y1) of what the camera sees (objects out of view
    are left out); phase: the expert's current phase word; chunk: (C, 7) upcoming actions.
    """
    visible_ids = sorted(boxes, key=lambda k: (boxes[k][0], boxes[k][1]))
    visible = [ReasonedObject(name=name(scene.get(k)), box=boxes[k]) for k in visible_ids]
    pick = scene.get(task.pick)
    target = ReasonedObject(name=name(pick), box=boxes.get(task.pick, (0.0, 0.0, 0.0, 0.0)))
    place = None
    if task.place is not None:
        place = ReasonedObject(name=name(scene.get(task.place)), box=boxes.get(task.place, (0.0, 0.0, 0.0, 0.0)))
    return Reasoning(
        # The TASK restates which twin was meant, so the side word stands next to the TARGET.
        task=task_sentence(scene, task, pick_words=name(pick) + _twin_side(scene, pick)),
        plan=plan_steps(scene, task),
        visible=visible,
        target=target,
        place=place,
        relation=task.relation if task.place is not None else None,
        move=f"{phase} , {describe_move(chunk)}",
    )


@dataclass(frozen=True)
class Exchange:
    """One clarifying question, the person's answer, and which slot of the task it settles."""

    question: str
    answer: str
    slot: str = "pick"  # "pick" | "place"


def eval_exchanges(scene: NamedScene, task: TaskWords) -> list[Exchange]:
    """The clarifying exchanges an evaluation episode gives with its sentence: for the picked
    object and then for the place, whichever has a same-name twin (same colour and shape; a
    small and a medium black bowl are twins to the words). Without it the sentence fits both
    and the episode would score a guess; the agent asks, and the demonstrations' clarified place
    variants use these same words (:func:`prompt_variants`)."""
    out = []
    for slot, obj_id in (("pick", task.pick), ("place", task.place)):
        if obj_id is None:
            continue
        obj = scene.get(obj_id)
        twins = [o for o in scene.objects if o.id != obj.id and name(o) == name(obj)]
        if twins:
            side = _side(scene, obj, twins[0])
            out.append(Exchange(_side_question(side), f"the {side} one", slot))
    return out


def eval_prompt(scene: NamedScene, task: TaskWords) -> tuple[str, list[tuple[str, str]]]:
    """(instruction, dialogue) an evaluation episode gives the policy: the canonical sentence,
    plus the clarifying exchanges of :func:`eval_exchanges`."""
    return task_sentence(scene, task), [(e.question, e.answer) for e in eval_exchanges(scene, task)]
