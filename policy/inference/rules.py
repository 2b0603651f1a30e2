"""Runtime rules: what the inference loop does beyond the network's own output, one named part each.

Every rule is a small frozen config dataclass registered under a name in :data:`RULES`; a
:class:`RuleSet` is the rules switched on, each with its own config. The runtime
(``policy.inference.runtime.VLARuntime``) asks the set for a rule by name at the point where that rule
acts and does nothing when it is absent, so ``RuleSet.none()`` is the network alone and
``RuleSet.all()`` the runtime's defaults. Where a rule was measured, the figures are in
docs/RESULTS.md ("Ablation").

Where each one acts:

* input transform: ``known_words`` (what the network reads of the prompt);
* logits processors inside the chain-of-thought decode: ``namer``, ``box_pointing``
  (with ``tracking``, ``side_words`` and ``holds.lost`` refining its candidates),
  ``phase_gate``;
* reasoning transform after the decode: ``holds`` (first boxes kept);
* output transforms on the action chunk: ``gripper_threshold``, ``release_retreat``.

The executor-level rules (step-back, homing, put-back, two-stage placement, steering) are the
agent's: ``agent/executor_rules.py``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Optional


@dataclass(frozen=True)
class KnownWords:
    """Leave out of what the network reads the clarifying turns that hold a word its vocabulary
    lacks (it would read them as <unk>): the checkpoint learnt twins from "the left or the right
    one?" only, and "the front or the back one?" derailed its reasoning. ``side_words`` still
    reads the whole prompt."""

    name: ClassVar[str] = "known_words"


@dataclass(frozen=True)
class BoxPointing:
    """Write each TARGET/PLACE box as one of the boxes listed under VISIBLE OBJECTS, the one the
    network scores highest (``policy/inference/box_pointer.py``); off, the boxes are decoded token by token."""

    name: ClassVar[str] = "box_pointing"


@dataclass(frozen=True)
class Tracking:
    """With ``box_pointing``: keep pointing a slot at the object it got at the previous reasoning
    call of the same instruction; candidates overlapping that box by ``iou`` win
    (``box_pointer.keep_tracked``)."""

    name: ClassVar[str] = "tracking"
    # Least IoU with the slot's previous box for a candidate to count as the same object.
    iou: float = 0.5


@dataclass(frozen=True)
class Holds:
    """Boxes kept instead of pointed afresh: a bowl does not move while the object is carried to
    it, and later calls see it past the hand and the object."""

    name: ClassVar[str] = "holds"
    # Slots whose tracked object, when no listed box overlaps its last one (hidden under the
    # hand), keep that last box (needs ``tracking``).
    lost: tuple[str, ...] = ("PLACE",)
    # Relations whose PLACE box the instruction's first reasoning call writes is kept for the
    # rest of it (a steered PLACE takes precedence).
    place: tuple[str, ...] = ("in",)
    # Keep the first call's TARGET and PLACE boxes for the whole instruction.
    boxes: bool = False


@dataclass(frozen=True)
class SideWords:
    """When the prompt names a side and a slot's listed candidates are twins, that side decides
    at the instruction's first reasoning call (``box_pointer.on_named_side``; needs
    ``box_pointing`` and the checkpoint's camera calibration)."""

    name: ClassVar[str] = "side_words"
    # Whose left/right the words mean: 'user' (across the table) or 'robot'.
    viewpoint: str = "user"


@dataclass(frozen=True)
class PhaseGate:
    """Write only a MOVE phase word the demonstrations show with the gripper the arm reports
    (``policy/inference/phase_gate.py``)."""

    name: ClassVar[str] = "phase_gate"


@dataclass(frozen=True)
class ReleaseRetreat:
    """After a put-down's hand opens, lift it straight up before the network acts again, as the
    expert's retreat does (``policy/inference/release_retreat.py``)."""

    name: ClassVar[str] = "release_retreat"
    # How far the open hand rises (m).
    rise_m: float = 0.08


@dataclass(frozen=True)
class GripperThreshold:
    """Send the gripper fully open (0) or closed (1), as the expert commands it; the regressed
    value otherwise sits between (0.14 at a release left a ball wedged in the fingers)."""

    name: ClassVar[str] = "gripper_threshold"
    # Commands above this close the hand.
    threshold: float = 0.5


NAMER_MODES = ("first", "every")
#: The namer's modes as a switch: 'off' switches the rule off.
RENAME_MODES = ("first", "every", "off")


@dataclass(frozen=True)
class Namer:
    """Rename the listed VISIBLE OBJECTS, and refine their boxes, with the checkpoint's object
    namer (``policy/model/object_namer.py``) before the decoder writes TARGET. No effect when the
    checkpoint has no namer."""

    name: ClassVar[str] = "namer"
    # 'every' reasoning call, or an instruction's 'first' call only.
    mode: str = "every"
    # A name given with less probability keeps the network's.
    min_prob: float = 0.5
    # A listed box is replaced by the namer's refined box when they overlap by this IoU (None: never).
    refine_min_iou: Optional[float] = 0.3

    def __post_init__(self) -> None:
        if self.mode not in NAMER_MODES:
            raise ValueError(f"namer mode must be one of {NAMER_MODES}, got {self.mode!r}")


#: name -> rule config class, in the order the ablation adds them.
RULES: dict[str, type] = {cls.name: cls for cls in (
    GripperThreshold, BoxPointing, Tracking, Holds, SideWords, KnownWords, PhaseGate, ReleaseRetreat, Namer)}


@dataclass(frozen=True)
class RuleSet:
    """The rules switched on, each with its config; absent rules are off."""

    rules: tuple[Any, ...] = field(default_factory=tuple)

    @classmethod
    def all(cls) -> "RuleSet":
        """Every rule with its default config: the runtime's default behaviour."""
        return cls(tuple(rule() for rule in RULES.values()))

    @classmethod
    def none(cls) -> "RuleSet":
        """No rule: the network alone."""
        return cls(())

    @classmethod
    def parse(cls, spec: str, known: Optional[dict[str, type]] = None) -> "RuleSet":
        """``none``, ``all`` or comma-separated names (each with its default config), then any
        ``name.field=value`` edits of a rule's config (``all,release_retreat.rise_m=0.05``;
        a tuple field takes ``+``-joined items, ``holds.place=in+on``, and ``holds.lost=`` is
        empty; ``none`` for None). A name outside ``known`` (default :data:`RULES`), or a field
        its config lacks, is refused naming the valid ones."""
        known = RULES if known is None else known
        items = [n.strip() for n in spec.split(",") if n.strip()]
        edits = [item for item in items if "=" in item]
        names = [item for item in items if "=" not in item]
        if names == ["all"]:
            rules = cls(tuple(rule() for rule in known.values()))
        elif names in ([], ["none"]):
            rules = cls.none()
        else:
            unknown = [n for n in names if n not in known]
            if unknown:
                raise ValueError(f"--rules: unknown rule {unknown[0]!r}; choose none, all or names from {', '.join(known)}")
            rules = cls(tuple(known[n]() for n in known if n in names))
        for edit in edits:
            rules = rules._edited(edit)
        return rules

    def _edited(self, edit: str) -> "RuleSet":
        """This set with one ``name.field=value`` edit (see :meth:`parse`)."""
        target, _, text = edit.partition("=")
        name, _, field_name = target.strip().partition(".")
        rule = self.get(name)
        if rule is None:
            raise ValueError(f"--rules: {edit!r} edits {name!r}, which is not switched on")
        fields = {f.name: f for f in dataclasses.fields(rule)}
        if field_name not in fields:
            raise ValueError(f"--rules: rule {name!r} has no field {field_name!r}; its fields: {', '.join(fields) or 'none'}")
        current = getattr(rule, field_name)
        text = text.strip()
        if isinstance(current, tuple):
            value: Any = tuple(v for v in text.split("+") if v)
        elif text == "none":
            value = None
        elif isinstance(current, bool):
            value = text.lower() in ("1", "true", "yes", "on")
        elif isinstance(current, (int, float)) or current is None:
            try:
                value = type(current)(text) if current is not None else float(text)
            except ValueError:
                raise ValueError(f"--rules: {edit!r}: {field_name} takes a number") from None
        else:
            value = text
        return self.with_rule(replace(rule, **{field_name: value}))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.rules)

    def get(self, name: str) -> Any:
        """The config of rule ``name``, or None when it is off."""
        return next((rule for rule in self.rules if rule.name == name), None)

    def on(self, name: str) -> bool:
        return self.get(name) is not None

    def with_rule(self, rule: Any) -> "RuleSet":
        """This set with ``rule`` switched on (replacing the config of the same name in place)."""
        if self.on(rule.name):
            return RuleSet(tuple(rule if r.name == rule.name else r for r in self.rules))
        return RuleSet(self.rules + (rule,))

    def without(self, *names: str) -> "RuleSet":
        return RuleSet(tuple(r for r in self.rules if r.name not in names))

    def edit(self, name: str, **changes: Any) -> "RuleSet":
        """This set with rule ``name``'s config changed (no-op when it is off)."""
        rule = self.get(name)
        return self if rule is None else self.with_rule(replace(rule, **changes))

    def only(self, names: tuple[str, ...]) -> "RuleSet":
        """The rules of this set whose names are in ``names``."""
        return RuleSet(tuple(r for r in self.rules if r.name in names))

    def renaming(self, mode: str) -> "RuleSet":
        """This set with the namer in ``mode`` (:data:`RENAME_MODES`; 'off' switches it off)."""
        if mode not in RENAME_MODES:
            raise ValueError(f"rename mode must be one of {RENAME_MODES}, got {mode!r}")
        if mode == "off":
            return self.without("namer")
        return self.with_rule(replace(self.get("namer") or Namer(), mode=mode))

    def steered(self) -> "RuleSet":
        """The rules of a runtime the agent steers with its own boxes: the namer and holding a
        lost box only edit words the steering boxes overwrite (in the agent's loop on 90
        held-out seeds they cost 4 and 2 stacks of 30), so both are off."""
        return self.without("namer").edit("holds", lost=())

    def seeing_from(self, viewpoint: Optional[str]) -> "RuleSet":
        """This set with side words read from ``viewpoint`` (no-op when None or the rule is off)."""
        return self if viewpoint is None else self.edit("side_words", viewpoint=viewpoint)
