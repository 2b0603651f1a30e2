"""The sessions the page lists: every folder with a session record under the run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.session_store import RECORD_FILE, TRANSCRIPT_FILE, SessionError, load_record
from agent.transcript import TranscriptEvent, read_transcript

#: Transcript kinds replayed into the page's chat when a session is opened.
HISTORY_KINDS = frozenset({"utterance", "say", "question", "answer", "interjection", "outcome"})


def list_sessions(run_dir: Path, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first: id, last update, the objects on its table, the number of utterances."""
    rows = []
    for path in sorted(Path(run_dir).glob(f"*/{RECORD_FILE}"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            record = load_record(path.parent)
        except SessionError:
            continue  # a torn or foreign folder is not offered
        utterances = _count_utterances(path.parent / TRANSCRIPT_FILE)
        rows.append({"id": record.session_id, "updated": record.updated, "policy": record.settings.policy,
                     "objects": ", ".join(o.describe() for o in record.scene.objects), "utterances": utterances})
        if len(rows) >= limit:
            break
    return rows


def history(folder: Path, limit: int = 200) -> list[TranscriptEvent]:
    """The session's earlier dialogue (the last ``limit`` chat events), for the page's chat."""
    path = Path(folder) / TRANSCRIPT_FILE
    if not path.is_file():
        return []
    try:
        events = read_transcript(path)
    except (OSError, ValueError):
        return []
    return [e for e in events if e.kind in HISTORY_KINDS][-limit:]


def _count_utterances(path: Path) -> int:
    if not path.is_file():
        return 0
    with path.open("rb") as handle:
        return sum(1 for line in handle if b'"kind":"utterance"' in line)
