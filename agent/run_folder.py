"""Run folders that no two runs share, and names that stay inside them.

Every ``episodes``/``demo`` run writes ``report.json``, transcripts and SQLite checkpoints into
one folder. Two runs started in the same second must not share it, and a run told to use an
explicit ``--run-dir`` that another run already used must not overwrite that run's report:

- :func:`new_run_dir` makes ``runs/<YYYYmmdd-HHMMSS>-<6 hex>`` (created exclusively, so even
  two processes in the same second get two folders);
- :func:`claim_run_dir` takes an explicit folder for one run: it atomically creates
  ``run.json`` (who claimed it, when) and refuses, with :class:`RunDirInUse`, a folder that
  already holds one (a finished or a running run) - an engineer who reuses a folder by mistake
  keeps the first report, and one who means it gives a new folder.

:func:`safe_name` turns a scenario name or session id into one path component: nothing a
name says (``../../escaped``, ``/etc``, ``a\\b``, NUL) can place a file outside the run folder.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

#: The file a claimed run folder holds (its owner); its presence means "used".
CLAIM_FILE = "run.json"
#: Longest path component a name becomes (file systems allow 255 bytes; ids add a suffix).
MAX_NAME_CHARS = 80


class RunDirInUse(RuntimeError):
    """An explicit run folder already belongs to another run."""


def safe_name(name: str, fallback: str = "scenario") -> str:
    """``name`` as a single, portable path component: letters, digits, ``.``, ``_`` and ``-``
    kept, every other run of characters becomes ``_``; no leading dot (no ``..``, no hidden
    file); at most MAX_NAME_CHARS characters; ``fallback`` when nothing is left."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip("._-")[:MAX_NAME_CHARS].rstrip("._-")
    return cleaned or fallback


def inside(folder: Path, child: Path) -> bool:
    """True when ``child`` resolves to a path inside ``folder`` (for assertions and tests)."""
    return Path(os.path.realpath(child)).is_relative_to(Path(os.path.realpath(folder)))


def new_run_dir(root: str | Path = "runs") -> Path:
    """A fresh folder ``root/<timestamp>-<6 hex>``, created here (never an existing one)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    while True:
        folder = root / f"{stamp}-{secrets.token_hex(3)}"
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        _write_claim(folder)
        return folder


def claim_run_dir(folder: Optional[str | Path], root: str | Path = "runs") -> Path:
    """The folder this run writes into: a new one under ``root`` when ``folder`` is None, else
    ``folder`` claimed for this run. Raises :class:`RunDirInUse` when another run has it."""
    if folder is None:
        return new_run_dir(root)
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise RunDirInUse(f"--run-dir {folder}: exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        _write_claim(folder)
    except FileExistsError:
        owner = _owner(folder / CLAIM_FILE)
        raise RunDirInUse(f"--run-dir {folder}: already used by {owner}; its report would be overwritten "
                          "- give a new folder (or leave --run-dir out for runs/<timestamp>-<id>)") from None
    if (folder / "report.json").exists():
        (folder / CLAIM_FILE).unlink()
        raise RunDirInUse(f"--run-dir {folder}: already holds a report.json from an earlier run - give a new folder")
    return folder


def _write_claim(folder: Path) -> None:
    """Create ``folder/run.json`` exclusively (O_EXCL: one winner when two runs race)."""
    fd = os.open(folder / CLAIM_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w") as handle:
        json.dump({"pid": os.getpid(), "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}, handle)


def _owner(path: Path, tries: int = 20, wait_s: float = 0.01) -> str:
    """Who holds the claim. A claim just created by a racing run may not be written yet: read it
    again a few times before settling for "another run"."""
    for attempt in range(tries):
        try:
            data = json.loads(path.read_text())
            return f"the run started {data['started']} (pid {data['pid']})"
        except (OSError, ValueError, KeyError, TypeError):
            if attempt + 1 < tries:
                time.sleep(wait_s)
    return "another run"
