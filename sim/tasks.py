"""Task specification: what the person really wants done (the scenario's ``user.intent``).

``pick`` alone: pick it up. With ``place``: put it ``relation`` that object (``in``, ``on``,
``left_of``, ``right_of``, ``in_front_of``, ``behind``, ``next_to``). ``between`` takes a second
reference, ``place2``. ``region`` puts it in a part of the table (``region``: ``left_side``,
``front_right``, ... see ``sim/relations.py``) and takes no reference. Geometry: ``sim/relations.py``.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, model_validator

from sim.relations import Region

Relation = Literal["in", "on", "left_of", "right_of", "in_front_of", "behind", "next_to", "between", "region"]
#: The relations of a single reference object (the original contract's seven).
RELATIONS: tuple[str, ...] = ("in", "on", "left_of", "right_of", "in_front_of", "behind", "next_to")
#: Every relation, the seven plus ``between`` (two references) and ``region`` (none).
ALL_RELATIONS: tuple[str, ...] = RELATIONS + ("between", "region")


def region_implies_relation(data: Any) -> Any:
    """A ``region`` given without a ``relation`` means ``relation: region`` (a pydantic
    before-validator shared with the scenario's ``Intent``)."""
    if isinstance(data, dict) and data.get("region") is not None and "relation" not in data:
        return {**data, "relation": "region"}
    return data


def structure_problems(pick: Optional[str], place: Optional[str], place2: Optional[str], relation: str,
                       region: Optional[str]) -> list[tuple[str, str]]:
    """(field, message) for each way the fields contradict each other; [] when they fit."""
    problems: list[tuple[str, str]] = []
    if relation == "between":
        if place is None:
            problems.append(("place", "relation 'between' needs place (the first reference)"))
        if place2 is None:
            problems.append(("place2", "relation 'between' needs place2 (the second reference)"))
        elif place2 in (place, pick):
            problems.append(("place2", f"{place2!r} must differ from place and pick"))
    elif place2 is not None:
        problems.append(("place2", f"only relation 'between' takes place2 (relation is {relation!r})"))
    if relation == "region":
        if region is None:
            problems.append(("region", "relation 'region' needs a region name"))
        if place is not None:
            problems.append(("place", "relation 'region' takes no reference object"))
    elif region is not None:
        problems.append(("region", f"a region goes with relation 'region' (relation is {relation!r})"))
    return problems


class TaskSpec(BaseModel):
    """Pick ``pick``; if ``place`` is given, put it ``relation`` that object (see module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pick: str
    place: Optional[str] = None
    relation: Relation = "in"
    place2: Optional[str] = None
    region: Optional[Region] = None

    _region_relation = model_validator(mode="before")(region_implies_relation)

    @model_validator(mode="after")
    def _consistent(self) -> "TaskSpec":
        problems = structure_problems(self.pick, self.place, self.place2, self.relation, self.region)
        if problems:
            raise ValueError("; ".join(f"{f}: {m}" for f, m in problems))
        return self

    @property
    def places(self) -> bool:
        """The task ends with the object set down somewhere (not just held up)."""
        return self.place is not None or self.relation == "region"

    @property
    def references(self) -> tuple[str, ...]:
        """The objects the placement is relative to (none, one, or two for ``between``)."""
        return tuple(r for r in (self.place, self.place2) if r is not None)

    @property
    def kind(self) -> str:
        return f"place_{self.relation}" if self.places else "pick"
