"""The simulated person of a scenario: answers the robot's questions like a person would.

It knows what it really means (``user.intent``) and sees the true scene. Asked to choose among
candidates, it names what tells the intended object apart from the OTHER candidates shown
("the one on the right", "the blue one", "the small one", "the one nearer to me"), the wording
varied by seed. Scripted ``replies`` are said first, in order. After ``patience`` answers it says
"never mind". Yes/no questions are answered truthfully. It is also the agent's interjection
source: :meth:`SimulatedUser.poll` returns what the person says unprompted at a control step.

Spatial words follow ``scene.viewpoint``: ``user`` (the person stands across the table, facing
the robot: their right is the robot's left, +y; "nearer to me" is farther from the robot, +x)
or ``robot`` (the robot's own frame: right is -y; near/far is measured from the robot).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np

from agent.scenario import Intent, UserSpec
from sim.scene import COLORS, SIZE_METRES, ObjectSpec, SceneSpec

#: Everyday nouns people use for each shape (the first is the plain word).
SHAPE_WORDS: dict[str, tuple[str, ...]] = {
    "cube": ("cube", "block"),
    "ball": ("ball", "sphere"),
    "cylinder": ("cylinder", "can"),
    "bowl": ("bowl", "dish"),
}
#: Metres by which an object must stand out along an axis before a person calls it "the left one".
SPATIAL_MARGIN_M = 0.04
NEVER_MIND = "never mind"
_YES_NO_START = re.compile(r"^\s*(do|did|does|is|are|should|shall|can|could|may|would|will|was|were|am)\b", re.I)

#: A feature singles the target out from the others: returns phrasings (empty = it does not).
Feature = Callable[[ObjectSpec, list[ObjectSpec], str, int], list[str]]


def _noun(obj: ObjectSpec) -> str:
    return SHAPE_WORDS[obj.shape][0]


def _rightness(obj: ObjectSpec, viewpoint: str) -> float:
    """Metres to the person's right: +y with the user viewpoint, -y with the robot's own."""
    return obj.position[1] if viewpoint == "user" else -obj.position[1]


def _nearness(obj: ObjectSpec, viewpoint: str) -> float:
    """Metres towards the speaker: the person across the table (+x) or, robot frame, the robot (-x)."""
    return obj.position[0] if viewpoint == "user" else -obj.position[0]


def _extreme(target: ObjectSpec, others: list[ObjectSpec], key: Callable[[ObjectSpec], float]) -> int:
    """+1 if target is beyond every other by the margin on ``key``, -1 if below all, else 0."""
    if not others:
        return 0
    t = key(target)
    if all(t - key(o) >= SPATIAL_MARGIN_M for o in others):
        return 1
    if all(key(o) - t >= SPATIAL_MARGIN_M for o in others):
        return -1
    return 0


def _between(target: ObjectSpec, others: list[ObjectSpec], key: Callable[[ObjectSpec], float]) -> bool:
    """Target has others on both sides on ``key`` and none within the margin of it."""
    t = key(target)
    return (any(key(o) - t >= SPATIAL_MARGIN_M for o in others)
            and any(t - key(o) >= SPATIAL_MARGIN_M for o in others)
            and all(abs(key(o) - t) >= SPATIAL_MARGIN_M for o in others))


def _color_feature(target: ObjectSpec, others: list[ObjectSpec], viewpoint: str, n: int) -> list[str]:
    if any(o.color == target.color for o in others):
        return []
    return [f"the {target.color} one", f"the {target.color} {_noun(target)}"]


def _shape_feature(target: ObjectSpec, others: list[ObjectSpec], viewpoint: str, n: int) -> list[str]:
    if any(o.shape == target.shape for o in others):
        return []
    return [f"the {word}" for word in SHAPE_WORDS[target.shape]]


def _size_feature(target: ObjectSpec, others: list[ObjectSpec], viewpoint: str, n: int) -> list[str]:
    side = _extreme(target, others, lambda o: SIZE_METRES[o.size] * 100.0)  # cm: margin 0.04 -> any step
    if side == 0:
        return []
    if side > 0:
        return ["the big one", "the bigger one" if n == 2 else "the biggest one"]
    return ["the small one", "the smaller one" if n == 2 else "the smallest one"]


def _lateral_feature(target: ObjectSpec, others: list[ObjectSpec], viewpoint: str, n: int) -> list[str]:
    side = _extreme(target, others, lambda o: _rightness(o, viewpoint))
    if side == 0:
        between = _between(target, others, lambda o: _rightness(o, viewpoint))
        return ["the one in the middle", "the middle one"] if between else []
    word = "right" if side > 0 else "left"
    phrases = [f"the one on the {word}", f"the {word} one"]
    phrases.append(f"the one on my {word}" if viewpoint == "user" else f"the one on your {word}")
    if n > 2:
        phrases.append(f"the {word}most one")
    return phrases


def _depth_feature(target: ObjectSpec, others: list[ObjectSpec], viewpoint: str, n: int) -> list[str]:
    side = _extreme(target, others, lambda o: _nearness(o, viewpoint))
    if side == 0:
        return []
    if viewpoint == "user":
        # Not "nearer to you": the robot reads "nearer" in the speaker's frame.
        return ["the one nearer to me", "the one closest to me"] if side > 0 else [
            "the one farther from me", "the one at the back"]
    return ["the one closest to you", "the one nearer to you"] if side > 0 else ["the one farther from you"]


#: Features in the order a person reaches for them; all singling-out phrasings are candidates.
ATTRIBUTE_FEATURES: tuple[Feature, ...] = (_color_feature, _shape_feature)
RELATIVE_FEATURES: tuple[Feature, ...] = (_lateral_feature, _depth_feature, _size_feature)


def distinguishing_phrases(target: ObjectSpec, others: list[ObjectSpec], viewpoint: str) -> list[str]:
    """Every short phrase that picks ``target`` out of ``others`` (empty if none does)."""
    n = len(others) + 1
    single = [p for feat in (*ATTRIBUTE_FEATURES, *RELATIVE_FEATURES) for p in feat(target, others, viewpoint, n)]
    if single:
        return single
    # No single feature works: narrow by colour (or shape), then a relative feature among those.
    pairs: list[str] = []
    for same in (lambda o: o.color == target.color, lambda o: o.shape == target.shape):
        rivals = [o for o in others if same(o)]
        if len(rivals) == len(others):
            continue
        for feat in RELATIVE_FEATURES:
            for phrase in feat(target, rivals, viewpoint, len(rivals) + 1):
                if feat is _lateral_feature and not phrase.startswith("the one "):
                    continue  # "the right red cube" reads as "the correct red cube"
                pairs.append(_qualify(phrase, target))
    return pairs


def _qualify(phrase: str, target: ObjectSpec) -> str:
    """'the one on the left' -> 'the red cube on the left'; 'the small one' -> 'the small red cube'."""
    named = f"{target.color} {_noun(target)}"
    if phrase.startswith("the one "):
        return f"the {named} {phrase[len('the one '):]}"
    if phrase.endswith(" one"):
        return f"{phrase[:-len(' one')]} {named}"
    return f"{phrase} {named}"


def describe_fully(target: ObjectSpec, scene: SceneSpec) -> str:
    """A description unique in the whole scene, e.g. 'the red cube on the right'."""
    others = [o for o in scene.objects if o.id != target.id]
    same = [o for o in others if o.color == target.color and o.shape == target.shape]
    base = f"the {target.color} {_noun(target)}"
    if not same:
        return base
    for feat in RELATIVE_FEATURES:
        phrases = feat(target, same, scene.viewpoint, len(same) + 1)
        if phrases:
            return _qualify(phrases[0], target)
    return f"the {target.size} {target.color} {_noun(target)}"


@dataclass
class Exchange:
    """One question and the answer given (for transcripts and tests)."""

    question: str
    candidates: list[Optional[str]]
    answer: str


@dataclass
class SimulatedUser:
    """The person of a scenario. ``candidates`` passed to :meth:`answer` are TRUE scene object ids
    of what the robot shows (None for a candidate with no real object, e.g. a phantom)."""

    spec: UserSpec
    scene: SceneSpec
    seed: int = 0
    exchanges: list[Exchange] = field(default_factory=list)
    gave_up: bool = False
    # True scene id of what the robot is going for / last took (the person watches the arm; the
    # runner sets it from the robot's announcements). None: unknown.
    watching: Optional[str] = None
    # True scene id of where the robot announced it puts it (None: unknown or nowhere).
    watching_place: Optional[str] = None
    # Positions in ``spec.intents`` of the steps already achieved (a multi-step request; the
    # runner updates it after every motion): questions are about a step still to do.
    done_steps: set[int] = field(default_factory=set)
    _fired: set[int] = field(default_factory=set)
    # Follow-ups (``then``) due: (control step, words), said once each.
    _due: list[tuple[int, str]] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return len(self.exchanges)

    def answer(self, question: str, candidates: Sequence[Optional[str]] = (), yes_no: Optional[bool] = None,
               about: Optional[str] = None) -> str:
        """What the person says back to ``question`` (scripted replies first, then from intent).
        ``yes_no``: the robot proposes ``candidates[0]`` and wants yes/no (None: judged from the
        wording, e.g. "Do you mean ...?" with a single candidate). ``about``: "pick" or "place"
        when the robot says which part of the request it asks about (None: judged from the
        candidates shown)."""
        candidates = list(candidates)
        if self.gave_up or self.answered >= self.spec.patience:
            self.gave_up = True
            reply = NEVER_MIND
        elif self.answered < len(self.spec.replies):
            reply = self.spec.replies[self.answered]
        else:
            reply = self._from_intent(question, candidates, yes_no, about)
        self.exchanges.append(Exchange(question, candidates, reply))
        return reply

    def poll(self, step: int) -> Optional[str]:
        """Interjection source: what the person says at control ``step`` (each said once).

        A person corrects only what is wrong: a correction of the object ("no, the other one",
        "no, the blue one") is left unsaid when the robot is going for (or took) the object they
        meant (``watching``), one of the place when it announced the place they meant. An
        interjection's ``then`` is said ``then.after`` steps after it."""
        from agent.interjection import read_interjection
        from agent.plan_corrections import read_plan_correction

        for i, (at, words) in enumerate(self._due):
            if step >= at:
                del self._due[i]
                return words
        for i, inter in enumerate(self.spec.interjections):
            if i not in self._fired and step >= inter.after_step:
                self._fired.add(i)
                reading = None if read_plan_correction(inter.say) else read_interjection(inter.say)
                slot = reading.slot if reading is not None else None  # a plan correction is always said
                if slot == "pick" and self.watching is not None and self.watching in {i.pick for i in self.spec.intents}:
                    continue
                if slot == "place" and self.watching_place is not None and self.watching_place == self._current().place:
                    continue
                if inter.then is not None:
                    # A late line (beyond any motion) is followed by its follow-up as the next line.
                    self._due.append((step + inter.then.after if step < 10**8 else step, inter.then.say))
                return inter.say
        return None

    # -- answering from the intent -------------------------------------------------------------

    def _rng(self) -> np.random.Generator:
        # One stream per (seed, question number): same scenario + seed -> same words.
        return np.random.default_rng([self.seed, self.answered])

    def _current(self, candidates: Sequence[Optional[str]] = ()) -> Intent:
        """The intent a question or a correction is about: with a list of intents (a multi-step
        request), the step whose object is among ``candidates``, else the one the robot is
        going for (``watching``), else the first; a single intent is always itself."""
        intents = [i for n, i in enumerate(self.spec.intents) if n not in self.done_steps] or self.spec.intents
        return (next((i for i in intents if i.pick is not None and i.pick in candidates), None)
                or next((i for i in intents if self.watching is not None and i.pick == self.watching), None)
                or next((i for i in intents if i.place is not None and i.place in candidates), None)
                or intents[0])

    def _target_for(self, candidates: list[Optional[str]]) -> Optional[str]:
        """The intended object the question is about: the pick, or the place if only that is shown."""
        intent = self._current(candidates)
        if intent.pick in candidates or not candidates:
            return intent.pick
        if intent.place is not None and intent.place in candidates:
            return intent.place
        # Shown objects are all place-like (e.g. bowls) and the pick is not among them.
        shown = [self.scene.get(c) for c in candidates if c is not None]
        if intent.place is not None and shown and all(o.shape == "bowl" for o in shown):
            return intent.place
        return intent.pick

    def _from_intent(self, question: str, candidates: list[Optional[str]], yes_no: Optional[bool],
                     about: Optional[str]) -> str:
        rng = self._rng()
        intent = self._current(candidates)
        if about == "correction":
            return self._what_instead(rng)
        if about == "place" and intent.place is not None:
            target_id: Optional[str] = intent.place
        elif about == "place2" and getattr(intent, "place2", None) is not None:
            target_id = intent.place2
        elif about == "pick":
            target_id = intent.pick
        else:
            target_id = self._target_for(candidates)
        if target_id is None:
            # They asked for something that is not there: none of what the robot offers is it.
            proposes_one = yes_no or (yes_no is None and len(candidates) <= 1)
            return "no" if proposes_one else str(rng.choice(["no, none of those", "neither of them"]))
        target = self.scene.get(target_id)
        real = [c for c in dict.fromkeys(candidates) if c is not None]
        if yes_no is None:
            yes_no = bool(_YES_NO_START.match(question)) and len(real) <= 1
        if yes_no:
            if candidates and candidates[0] is None:
                return "no, " + describe_fully(target, self.scene)  # it proposes something not there
            return self._yes_no(question, target, [c for c in candidates[:1] if c is not None], rng)
        if candidates and target_id not in candidates:
            return "none of those, I meant " + describe_fully(target, self.scene)
        others = [self.scene.get(c) for c in real if c != target_id]
        phrases = distinguishing_phrases(target, others, self.scene.viewpoint) if others else []
        if not phrases:
            phrases = [describe_fully(target, self.scene)]
        return str(rng.choice(phrases))

    def _what_instead(self, rng: np.random.Generator) -> str:
        """The answer to "what should I do instead?": what is wrong with what the robot does
        (as far as the person saw), else go on."""
        intent = self._current()
        if intent.pick is None:
            return str(rng.choice(["never mind", "forget it"]))
        if self.watching is not None and self.watching != intent.pick:
            return str(rng.choice(["", "I meant "])) + describe_fully(self.scene.get(intent.pick), self.scene)
        if intent.place is not None and self.watching_place not in (None, intent.place):
            place = describe_fully(self.scene.get(intent.place), self.scene)
            words = {"in": "in", "on": "on", "left_of": "to the left of", "right_of": "to the right of",
                     "in_front_of": "in front of", "behind": "behind", "next_to": "next to"}[intent.relation]
            return f"put it {words} {place}"
        return str(rng.choice(["ok, go on", "carry on", "go ahead"]))

    def _yes_no(self, question: str, target: ObjectSpec, real: list[str], rng: np.random.Generator) -> str:
        if real:
            meant = real[0] == target.id
        else:
            meant = _words_fit(question, target)
        if meant:
            return str(rng.choice(["yes", "yes, that one", "yes please"]))
        shown = [self.scene.get(real[0])] if real else []
        if shown and len(self._same_kind(target)) == 2 and shown[0] in self._same_kind(target):
            return "no, the other one"
        return "no, " + describe_fully(target, self.scene)

    def _same_kind(self, target: ObjectSpec) -> list[ObjectSpec]:
        return [o for o in self.scene.objects if o.shape == target.shape and o.color == target.color]


def _words_fit(text: str, obj: ObjectSpec) -> bool:
    """Does the text's colour/shape wording (if any) describe ``obj``?"""
    words = set(re.findall(r"[a-z]+", text.lower()))
    colors = words & set(COLORS)
    shapes = {s for s, names in SHAPE_WORDS.items() if words & set(names)}
    return (not colors or obj.color in colors) and (not shapes or obj.shape in shapes)


@dataclass
class HeardPerson:
    """The person as the robot hears them: every utterance passes through ``hear`` (identity for
    ``channel: text``; TTS -> noise -> whisper for ``channel: speech``). An interjection source."""

    user: SimulatedUser
    hear: Callable[[str], str] = field(default=lambda text: text)

    def poll(self, step: int) -> Optional[str]:
        said = self.user.poll(step)
        return None if said is None else self.hear(said)

    def robot_says(self, text: str) -> None:
        """The robot's question to the person: a speech channel saves it as a WAV (text: nothing)."""
        save = getattr(self.hear, "robot_says", None)
        if save is not None:
            save(text)
