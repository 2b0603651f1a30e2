"""Task specification: what the person really wants done (the scenario's ``user.intent``)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict

Relation = Literal["in", "on", "left_of", "right_of", "in_front_of", "behind", "next_to"]
RELATIONS: tuple[str, ...] = ("in", "on", "left_of", "right_of", "in_front_of", "behind", "next_to")


class TaskSpec(BaseModel):
    """Pick ``pick``; if ``place`` is given, put it ``relation`` that object."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pick: str
    place: Optional[str] = None
    relation: Relation = "in"

    @property
    def kind(self) -> str:
        return "pick" if self.place is None else f"place_{self.relation}"
