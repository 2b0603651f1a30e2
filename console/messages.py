"""Messages the page sends (JSON text frames on /ws; push-to-talk audio goes as a binary WAV
frame). Each is one pydantic model; a malformed one is answered with one error line."""

from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SayText(_Message):
    """Typed words: an instruction, an answer, or a correction while the arm moves."""

    type: Literal["say"]
    text: str = Field(max_length=500)


class Choose(_Message):
    """A clicked candidate (its box on the picture or its button), 1-based as numbered."""

    type: Literal["choose"]
    number: int = Field(ge=1, le=99)


class Stop(_Message):
    """The STOP button or the Space key; ``t_page`` (ms, the page's Date.now()) for the benchmark."""

    type: Literal["stop"]
    t_page: Optional[float] = None


class OpenSession(_Message):
    """Resume a listed session (``session_id``) or start a new one (None)."""

    type: Literal["open_session"]
    session_id: Optional[str] = Field(None, max_length=80)


class ListSessions(_Message):
    type: Literal["list_sessions"]


PageMessage = Annotated[Union[SayText, Choose, Stop, OpenSession, ListSessions], Field(discriminator="type")]
_ADAPTER: TypeAdapter[PageMessage] = TypeAdapter(PageMessage)


class BadMessage(ValueError):
    """A page message that is not one of the above (one line)."""


def parse_message(text: str) -> PageMessage:
    try:
        return _ADAPTER.validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(message)"
        raise BadMessage(f"bad message: {where}: {first['msg']}") from None
