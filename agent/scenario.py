"""Scenario files: the YAML contract of docs/SCENARIOS.md as pydantic models.

A scenario is one scene, one instruction, a simulated person (what they really mean, how they
answer, when they interject), optional perception faults and what should happen. A file holds
one scenario (a mapping) or several (a list). Loading never stops at the first bad scenario:
:func:`load_scenarios` returns the good ones plus a :class:`ScenarioError` per bad one, whose
message names the FILE, the scenario and the FIELD, e.g.::

    scenarios/bad.yaml: scenario 2 'x': user.intent.pick: 'z' is not an object in the scene
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator

from sim.relations import Region
from sim.scene import COLORS, SceneSpec
from sim.task_sampling import is_feasible
from sim.tasks import Relation, TaskSpec, region_implies_relation, structure_problems
from vocab.words import GRASPABLE_SHAPES

#: Fault types perception can be made to suffer (applied by the runner to what it perceives).
FAULT_TYPES: tuple[str, ...] = ("misperceive_color", "occlude", "distractor")


class Intent(BaseModel):
    """What the person really means. ``pick`` None: they ask for something that is not there.

    ``place2``: the second reference of ``relation: between``. ``region``: a part of the table
    (``relation: region``, implied when ``region`` is given alone). docs/SCENARIOS.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pick: Optional[str] = None
    place: Optional[str] = None
    relation: Relation = "in"
    place2: Optional[str] = None
    region: Optional[Region] = None

    _region_relation = model_validator(mode="before")(region_implies_relation)

    def to_task(self) -> Optional[TaskSpec]:
        """The sim task that achieves this intent; None when the intent cannot be achieved."""
        if self.pick is None:
            return None
        return TaskSpec(pick=self.pick, place=self.place, relation=self.relation, place2=self.place2,
                        region=self.region)


class FollowUp(BaseModel):
    """What the person says ``after`` control steps after an interjection was said ("ok, go
    on" some time after "wait")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: int = Field(ge=0)
    say: str = Field(min_length=1)


class Interjection(BaseModel):
    """Something the person says unprompted once the agent has run ``after_step`` control steps;
    ``then``: a follow-up said ``then.after`` control steps after this one was said (a held arm
    counts its holds as steps)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after_step: int = Field(ge=0)
    say: str = Field(min_length=1)
    then: Optional[FollowUp] = None


#: Tags of the two forms of ``user.intent`` (one mapping, or a list of steps); pydantic puts
#: them in an error's location, where :func:`_loc_to_field` drops them again.
_INTENT_FORMS = ("mapping", "list")
IntentField = Annotated[
    Union[Annotated[Intent, Tag("mapping")], Annotated[list[Intent], Tag("list"), Field(min_length=1)]],
    Discriminator(lambda v: "list" if isinstance(v, list) else "mapping"),
]


class UserSpec(BaseModel):
    """The simulated person. ``intent``: one mapping, or a list of intents (the steps of a
    multi-step request) that must all hold at the end, in list order when ``ordered``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    intent: IntentField
    # Only beside a list of intents: the steps must be achieved in list order.
    ordered: bool = False
    # Said in order when asked, before any answer made up from the intent.
    replies: list[str] = Field(default_factory=list)
    channel: Literal["text", "speech"] = "text"
    # channel: speech only: the TTS voice that speaks the person's lines, and white noise added
    # at this signal-to-noise ratio in dB (None: clean).
    voice: Literal["piper", "espeak"] = "piper"
    snr_db: Optional[float] = None
    # Questions answered before they give up ("never mind").
    patience: int = Field(3, ge=0)
    interjections: list[Interjection] = Field(default_factory=list)

    @property
    def intents(self) -> list[Intent]:
        """Every intent, in order (one for a single mapping)."""
        return list(self.intent) if isinstance(self.intent, list) else [self.intent]

    @property
    def first(self) -> Intent:
        """The first (for a single mapping: the only) intent."""
        return self.intents[0]

    @property
    def multi(self) -> bool:
        """``intent`` is a list (a multi-step request, even of one step)."""
        return isinstance(self.intent, list)


class Fault(BaseModel):
    """A perception fault. ``as`` is the colour seen (misperceive_color) or, for a distractor,
    the colour of a phantom copy of ``object`` seen beside it. ``persist``: the fault survives a
    second look (re-perception); by default a second look sees the truth."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: Literal["misperceive_color", "occlude", "distractor"]
    object: str
    as_: Optional[str] = Field(None, alias="as")
    persist: bool = False


class AskRange(BaseModel):
    """How many questions the agent may ask: ``min`` <= asked <= ``max`` (max None: no limit)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: int = Field(0, ge=0)
    max: Optional[int] = Field(None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> "AskRange":
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max {self.max} < min {self.min}")
        return self


class Expect(BaseModel):
    """What should happen. ``ask``: true = at least one question, false = none, or a range."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    success: bool
    ask: Union[bool, AskRange] = False

    def ask_range(self) -> AskRange:
        if isinstance(self.ask, AskRange):
            return self.ask
        return AskRange(min=1) if self.ask else AskRange(min=0, max=0)

    def ask_ok(self, asked: int) -> bool:
        rng = self.ask_range()
        return asked >= rng.min and (rng.max is None or asked <= rng.max)


class Scenario(BaseModel):
    """One scenario of the contract. ``source`` (optional) is the file it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    scene: SceneSpec
    instruction: str = Field(min_length=1)
    user: UserSpec
    faults: list[Fault] = Field(default_factory=list)
    expect: Expect
    source: Optional[str] = None
    family: Optional[str] = Field(None, description="task family within a suite (e.g. knowno's bowl_colour), "
                                  "for per-family report lines")


def semantic_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """Cross-field checks pydantic cannot do alone: (dotted field, message) per problem."""
    user = scenario.user
    problems: list[tuple[str, str]] = []
    if user.multi:
        problems += _steps_problems(user.intents)
        for i, intent in enumerate(user.intents):
            problems += _intent_problems(scenario, intent, f"user.intent.{i}")
    else:
        problems += _intent_problems(scenario, user.first, "user.intent")
        if user.ordered:
            problems.append(("user.ordered", "only a list of intents has an order"))
    ids = {o.id for o in scenario.scene.objects}
    for i, fault in enumerate(scenario.faults):
        where = f"faults.{i}"
        if fault.object not in ids:
            problems.append((f"{where}.object", f"{fault.object!r} is not an object in the scene"))
        if fault.type in ("misperceive_color", "distractor") and fault.as_ is not None and fault.as_ not in COLORS:
            problems.append((f"{where}.as", f"unknown colour {fault.as_!r}"))
        if fault.type == "misperceive_color" and fault.as_ is None:
            problems.append((f"{where}.as", "misperceive_color needs the colour seen ('as')"))
    return problems


def _intent_problems(scenario: Scenario, intent: Intent, at: str) -> list[tuple[str, str]]:
    """The checks of one intent; ``at``: its dotted field ("user.intent" or "user.intent.1")."""
    ids = {o.id for o in scenario.scene.objects}
    problems = [(f"{at}.{fld}", msg) for fld, msg in
                structure_problems(intent.pick, intent.place, intent.place2, intent.relation, intent.region)]
    for key in ("pick", "place", "place2"):
        value = getattr(intent, key)
        if value is not None and value not in ids:
            problems.append((f"{at}.{key}", f"{value!r} is not an object in the scene"))
    if intent.pick is not None and intent.pick in ids:
        shape = scenario.scene.get(intent.pick).shape
        if shape not in GRASPABLE_SHAPES:
            problems.append((f"{at}.pick", f"{intent.pick!r} is a {shape}; it cannot be picked up"))
    if not problems and intent.pick is not None and scenario.expect.success:
        task = intent.to_task()
        if task is not None and not is_feasible(scenario.scene, task):
            problems.append((at, f"{task.kind} of {task.pick!r} is not feasible in this scene "
                             "(wrong container/support, or no clear spot on the table), yet expect.success is true"))
    if intent.pick is not None and intent.pick == intent.place:
        problems.append((f"{at}.place", "an object cannot be placed relative to itself"))
    if intent.pick is None and (intent.place is not None or intent.region is not None):
        problems.append((f"{at}.place" if intent.place is not None else f"{at}.region",
                         "a placement given but pick is null"))
    if intent.pick is None and scenario.expect.success:
        problems.append(("expect.success", f"true, but {at}.pick is null (nothing can be achieved)"))
    return problems


def _steps_problems(intents: list[Intent]) -> list[tuple[str, str]]:
    """Checks across the steps of a list: each moves its own object, and what one step moves is
    no other step's reference (the final check reads them all at once)."""
    problems: list[tuple[str, str]] = []
    moved: dict[str, int] = {}
    for i, intent in enumerate(intents):
        if intent.pick is None:
            problems.append((f"user.intent.{i}.pick", "every step of a list needs an object to move (null given)"))
        elif intent.pick in moved:
            problems.append((f"user.intent.{i}.pick", f"{intent.pick!r} is already moved by user.intent.{moved[intent.pick]}"))
        else:
            moved[intent.pick] = i
    for i, intent in enumerate(intents):
        for key in ("place", "place2"):
            ref = getattr(intent, key)
            if ref is not None and ref in moved and moved[ref] != i:
                problems.append((f"user.intent.{i}.{key}", f"{ref!r} is moved by user.intent.{moved[ref]}; "
                                 "a step's reference must stay where it is"))
    return problems


@dataclass(frozen=True)
class ScenarioError:
    """A scenario (or a whole file) that could not be loaded."""

    path: str
    index: Optional[int]  # 1-based position in a list file; None for a one-scenario file
    name: Optional[str]
    field: Optional[str]  # dotted field path, e.g. "user.intent.pick"
    message: str

    def __str__(self) -> str:
        parts = [self.path]
        if self.index is not None or self.name:
            label = "scenario" + (f" {self.index}" if self.index is not None else "")
            parts.append(label + (f" {self.name!r}" if self.name else ""))
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)

    @property
    def label(self) -> str:
        """A name for the report row of this failed scenario."""
        return self.name or (f"{self.path}#{self.index}" if self.index is not None else self.path)


@dataclass
class LoadResult:
    """Good scenarios in file order, plus one error per bad scenario or unreadable file."""

    scenarios: list[Scenario] = field(default_factory=list)
    errors: list[ScenarioError] = field(default_factory=list)

    def extend(self, other: "LoadResult") -> None:
        self.scenarios.extend(other.scenarios)
        self.errors.extend(other.errors)


def _loc_to_field(loc: tuple[Any, ...]) -> str:
    """Pydantic error location -> dotted field name ('as_' shown as the YAML key 'as'); a key
    with line breaks or other control characters is shown escaped, so the error stays one line."""
    if len(loc) > 2 and loc[:2] == ("user", "intent") and loc[2] in _INTENT_FORMS:
        loc = loc[:2] + loc[3:]  # the union's tag, not a field of the file
    return ".".join("as" if part == "as_" else _printable(str(part)) for part in loc)


def _printable(text: str) -> str:
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def _clip(text: str, limit: int = 60) -> str:
    """Keep a value quoted in a one-line error short (a fuzzed name can be kilobytes)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_scenario(data: Any, path: str, index: Optional[int] = None) -> Union[Scenario, ScenarioError]:
    """Validate one scenario mapping; the error, if any, names ``path``, the scenario and field."""
    name = data.get("name") if isinstance(data, dict) else None
    name = _clip(str(name)) if name is not None else None
    if not isinstance(data, dict):
        return ScenarioError(path, index, None, None, f"expected a mapping, got {type(data).__name__}")
    try:
        scenario = Scenario.model_validate({**data, "source": path})
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "literal_error" and "input" in first:
            msg = f"{_clip(repr(first['input']))}: {msg}"
        return ScenarioError(path, index, name, _loc_to_field(first["loc"]) or None, msg + more)
    problems = semantic_problems(scenario)
    if problems:
        fld, msg = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return ScenarioError(path, index, name, fld, msg + more)
    return scenario


def load_file(path: Union[str, Path]) -> LoadResult:
    """Load one YAML file holding a scenario mapping or a list of them."""
    import yaml

    path_str = str(path)
    result = LoadResult()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        result.errors.append(ScenarioError(path_str, None, None, None,
                                           f"not a UTF-8 text file (byte {exc.start}: {exc.reason}); is it binary?"))
        return result
    except (OSError, yaml.YAMLError, RecursionError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        result.errors.append(ScenarioError(path_str, None, None, None, f"cannot read YAML: {reason}"))
        return result
    items: list[tuple[Optional[int], Any]]
    if isinstance(data, list):
        items = [(i + 1, item) for i, item in enumerate(data)]
    else:
        items = [(None, data)]
    for index, item in items:
        parsed = parse_scenario(item, path_str, index)
        if isinstance(parsed, ScenarioError):
            result.errors.append(parsed)
        else:
            result.scenarios.append(parsed)
    return result


def load_scenarios(paths: list[Union[str, Path]], recursive: bool = True) -> LoadResult:
    """Load files and folders (every *.yaml / *.yml inside, sorted; sub-folders too when
    ``recursive``); bad ones become errors."""
    result = LoadResult()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            glob = path.rglob if recursive else path.glob
            files = sorted([*glob("*.yaml"), *glob("*.yml")])
            if not files:
                result.errors.append(ScenarioError(str(path), None, None, None, "no *.yaml scenario files in folder"))
            for file in files:
                result.extend(load_file(file))
        elif path.exists():
            result.extend(load_file(path))
        else:
            result.errors.append(ScenarioError(str(path), None, None, None, "no such file or folder"))
    return result

