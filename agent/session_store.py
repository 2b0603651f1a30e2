"""Session folders: everything an interactive session needs to resume on the same table.

    runs/sessions/<session id>/
        session.json       SessionRecord: the scene (SceneSpec), the objects' current poses,
                           the policy, the settings
        transcript.jsonl   every event (agent.transcript)
        checkpoint.sqlite  the agent graph's state (agent.driver.AgentSession)

``session.json`` is rewritten atomically (temp file + rename) after every turn and every
:data:`POSE_SAVE_EVERY` control steps of a motion, so a ``kill -9`` at any instant leaves the
last complete record: the table as it stood at most that many steps earlier. A resume needs
only the id: :func:`find_session` looks in the given run folder, then in ``runs/sessions``,
then in any folder under ``runs/``.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.scene import SceneSpec

#: Control steps between two saves of the object poses during a motion (10 Hz: one second).
POSE_SAVE_EVERY = 10
#: Where interactive sessions go unless --run-dir says otherwise; searched first on resume.
DEFAULT_SESSIONS_DIR = Path("runs") / "sessions"
RECORD_FILE = "session.json"
TRANSCRIPT_FILE = "transcript.jsonl"
CHECKPOINT_FILE = "checkpoint.sqlite"
#: What a session id may be: it names a folder, so no separators, no leading dot.
SESSION_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,79}")


class SessionError(ValueError):
    """A session that cannot be found, read or resumed (one line, names the file and field)."""


class SavedPose(BaseModel):
    """Where one object is: position (x, y, z) metres and quaternion (x, y, z, w), base frame."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    position: tuple[float, float, float]
    orientation: tuple[float, float, float, float]


class SessionSettings(BaseModel):
    """The choices a session was started with; a resume uses these, not the new command line."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str = Field(description="executor name (EXECUTORS): vla or expert")
    checkpoint: str = Field(description="policy checkpoint folder for vla")
    image_size: int = Field(description="camera pixels (square)")
    seed: int = Field(0, description="the env's seed")
    siglip: Optional[str] = Field(None, description="SigLIP checkpoint folder (None: the default)")
    consistency: bool = Field(True, description="the SigLIP language-vision check is on")
    calibration: Optional[str] = Field(None, description="conformal calibration JSON (None: the default)")
    use_calibration: bool = Field(True, description="conformal calibration is on")


class SessionRecord(BaseModel):
    """``session.json``: the scene as loaded, where its objects are now, and the settings."""

    model_config = ConfigDict(extra="forbid")

    session_id: str
    scene: SceneSpec
    poses: dict[str, SavedPose] = Field(default_factory=dict, description="object id -> current pose (empty: as in scene)")
    settings: SessionSettings
    created: str
    updated: str


def check_session_id(session_id: str) -> str:
    """``session_id`` when it can name a folder; else a one-line :class:`SessionError`."""
    if not SESSION_ID.fullmatch(session_id) or session_id.strip(".") == "":
        raise SessionError(f"--session-id {session_id!r}: use 1-80 letters, digits, '.', '_' or '-' "
                           "(it names the session's folder)")
    return session_id


def session_dir(run_dir: Path, session_id: str) -> Path:
    return Path(run_dir) / check_session_id(session_id)


def find_session(session_id: str, run_dir: Optional[Path] = None, root: Path = Path("runs")) -> Optional[Path]:
    """The folder holding ``session_id``'s record: ``run_dir/<id>`` when given, else
    ``runs/sessions/<id>``, else any ``runs/**/<id>/session.json`` (newest first); None if none."""
    check_session_id(session_id)
    for base in (run_dir, DEFAULT_SESSIONS_DIR):
        if base is not None and (Path(base) / session_id / RECORD_FILE).is_file():
            return Path(base) / session_id
    found = sorted(Path(root).glob(f"**/{session_id}/{RECORD_FILE}"), key=lambda p: p.stat().st_mtime, reverse=True)
    return found[0].parent if found else None


def load_record(folder: Path) -> SessionRecord:
    path = Path(folder) / RECORD_FILE
    try:
        return SessionRecord.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise SessionError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(whole file)"
        raise SessionError(f"{path}: {where}: {first['msg'].removeprefix('Value error, ')}") from None


def new_record(session_id: str, scene: SceneSpec, settings: SessionSettings) -> SessionRecord:
    now = _now()
    return SessionRecord(session_id=session_id, scene=scene, settings=settings, created=now, updated=now)


def save_record(folder: Path, record: SessionRecord) -> None:
    """Write ``session.json`` atomically: a kill mid-write leaves the previous record whole."""
    folder.mkdir(parents=True, exist_ok=True)
    record.updated = _now()
    tmp = folder / f".{RECORD_FILE}.{os.getpid()}.tmp"
    tmp.write_text(record.model_dump_json(indent=1))
    os.replace(tmp, folder / RECORD_FILE)


def poses_now(env: Any) -> dict[str, SavedPose]:
    """The simulator's current object poses as saved poses."""
    return {oid: SavedPose(position=tuple(float(v) for v in p.position),  # type: ignore[arg-type]
                           orientation=tuple(float(v) for v in p.orientation))  # type: ignore[arg-type]
            for oid, p in env.object_poses().items()}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
