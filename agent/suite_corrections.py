"""The ``corrections`` suite: every common correction, mid-motion or right after.

Another object ("no, the blue one"), the other one, another place ("put it in the green bowl
instead"), wait ... go on, put it back, never mind, stop, and an unclear "no!" (it must ask),
each drawn from many phrasings (``agent.correction_phrases``). The forms and what the robot
does for each are in docs/SCENARIOS.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agent.correction_phrases import CORRECTION_PHRASES
from agent.suites import (
    LATE_STEP,
    PICK_VERBS,
    PLACE_VERBS,
    RELATION_WORDS,
    _pick_kind,
    _Table,
    _user,
    _word,
    register_suite,
)
from sim.scene import COLORS, ObjectSpec
from sim.task_sampling import FLAT_TOPPED, is_feasible
from sim.tasks import TaskSpec
from vocab.words import GRASPABLE_SHAPES

# -- corrections: every common form, mid-motion or right after --------------------------------
# Another object ("no, the blue one"), the other one, another place ("put it in the green bowl
# instead"), wait ... go on, put it back, never mind, stop, and an unclear "no!" (it must ask).

#: Forms of the ``corrections`` suite; each seed draws one and says it mid-motion (control step
#: 8-25 at 10 Hz) or right after (``LATE_STEP``). A "stop" mid-motion comes before the hand
#: closes (about step 21), so a freeze leaves the table as it was.
CORRECTION_FORMS: tuple[str, ...] = ("referent", "other", "destination", "pause", "undo", "cancel", "stop", "unclear")


def _say(rng: np.random.Generator, key: str, **words: str) -> str:
    return str(rng.choice(CORRECTION_PHRASES[key])).format(**words)


def _two_kinds(rng: np.random.Generator, table: _Table, by: str) -> tuple[ObjectSpec, ObjectSpec]:
    """What the robot is told to take and what the person meant, told apart by colour or shape."""
    shape, color = _pick_kind(rng)
    said = table.add(shape, color, "small")
    if by == "color":
        meant = table.add(shape, str(rng.choice([c for c in COLORS if c != color])), "small")
    else:
        meant = table.add(str(rng.choice([s for s in GRASPABLE_SHAPES if s != shape])), str(rng.choice(list(COLORS))), "small")
    return said, meant


@register_suite("corrections")
def _corrections(rng: np.random.Generator) -> dict[str, Any]:
    form = str(rng.choice(CORRECTION_FORMS))
    late = rng.random() < 0.5
    step = LATE_STEP if late else int(rng.integers(8, 15 if form == "stop" else 26))
    for _ in range(100):
        table = _Table(rng)
        bowl = table.add("bowl", str(rng.choice(list(COLORS))), "large", x=(0.38, 0.48)) if rng.random() < 0.5 else None
        say, then, expect_ask, success = "", None, {"min": 0, "max": 1}, True
        if form in ("referent", "unclear"):
            by = str(rng.choice(["color", "shape"]))
            said, meant = _two_kinds(rng, table, by)
            n0 = _word(rng, said.shape)
            say = _say(rng, f"referent_{by}", c=meant.color, n=_word(rng, meant.shape), c0=said.color, n0=n0)
            text_pick, pick, place, relation = f"the {said.color} {n0}", meant, bowl, "in"
            if form == "unclear":
                say, expect_ask = _say(rng, "unclear"), {"min": 1, "max": 2}
        elif form == "other":
            shape, color = _pick_kind(rng)
            left = table.add(shape, color, "small", y=(-0.21, -0.09))
            right = table.add(shape, color, "small", y=(0.09, 0.21))
            said_side, pick = ("left", right) if rng.random() < 0.5 else ("right", left)
            n0 = _word(rng, shape)
            say = _say(rng, "other", n=n0)
            text_pick, place, relation = f"the {color} {n0} on the {said_side}", bowl, "in"
        elif form == "destination":
            shape, color = _pick_kind(rng)
            pick = table.add(shape, color, "small")
            first = bowl or table.add("bowl", str(rng.choice(list(COLORS))), "large", x=(0.38, 0.48))
            text_pick, n0 = f"the {color} {_word(rng, shape)}", ""
            if rng.random() < 1 / 3:
                ref = table.add(str(rng.choice(FLAT_TOPPED)), str(rng.choice([c for c in COLORS if c != color])), "large")
                place, relation = ref, "on"
                say = _say(rng, "destination_on", c=ref.color, n=_word(rng, ref.shape))
            else:
                place = table.add("bowl", str(rng.choice([c for c in COLORS if c != first.color])), "large")
                relation = "in"
                say = _say(rng, "destination", c=place.color, c0=first.color)
            bowl = first  # what the robot is told first
        else:  # pause, undo, cancel, stop: the request itself is right
            shape, color = _pick_kind(rng)
            pick, place, relation = table.add(shape, color, "small"), bowl, "in"
            text_pick = f"the {color} {_word(rng, shape)}"
            say = _say(rng, form, n=_word(rng, shape))
            if form == "pause":
                then = {"after": int(rng.integers(5, 30)), "say": _say(rng, "resume")}
            # Called off mid-motion: nothing may stay moved; said after it finished, it is done
            # (except "put it back"). A pause ends in the request done.
            success = form == "pause" or (late and form != "undo")
        told = bowl if form == "destination" else place
        instruction = (f"{rng.choice(PLACE_VERBS)} {text_pick} {rng.choice(RELATION_WORDS['in'])} the {told.color} bowl"
                       if told is not None else f"{rng.choice(PICK_VERBS)} {text_pick}")
        avoid = {(o.color, o.shape) for o in table.objects} | {(c, pick.shape) for c in COLORS}
        table.add_distractors(int(rng.integers(0, 2)), avoid=avoid)
        task = TaskSpec(pick=pick.id, place=place.id if place is not None else None, relation=relation)  # type: ignore[arg-type]
        if is_feasible(table.scene(), task) and (told is None or is_feasible(table.scene(), TaskSpec(pick=pick.id, place=told.id))):
            break
    else:
        raise RuntimeError(f"no feasible {form} correction scene found")
    interjection: dict[str, Any] = {"after_step": step, "say": say, **({"then": then} if then else {})}
    intent = _user(pick.id if success else None, place.id if success and place is not None else None, relation,
                   interjections=[interjection])
    return {"scene": table.scene(), "instruction": instruction, "user": intent,
            "expect": {"success": success, "ask": expect_ask}}
