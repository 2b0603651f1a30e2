"""Read the table of ``main.py session --scene FILE``: a plain scene or a scenario's ``scene:``.

Every way a file can be wrong (missing, a folder, binary, not YAML, not a mapping, an unknown
colour, overlapping objects ...) becomes one :class:`SceneFileError` line naming the file and
the field, e.g. ``scene.yaml: objects.1.color: unknown colour 'teal'; known: red, ...``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.scene import MAX_SCENE_OBJECTS, SceneSpec


class SceneFileError(ValueError):
    """A scene file that cannot be used (one line: file, field, what is wrong)."""


def load_scene_file(path: Path) -> SceneSpec:
    """The scene in ``path`` (YAML: ``{viewpoint, objects}``, a scenario with ``scene:``, or a
    list of scenarios whose first is used)."""
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SceneFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SceneFileError(f"{path}: is a folder, not a scene file") from None
    except UnicodeDecodeError as exc:
        raise SceneFileError(f"{path}: not a UTF-8 text file (byte {exc.start}: {exc.reason}); is it binary?") from None
    except OSError as exc:
        raise SceneFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data: Any = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise SceneFileError(f"{path}: cannot read YAML: {' '.join(str(exc).split())}") from None
    prefix = ""
    if isinstance(data, list):
        if not data:
            raise SceneFileError(f"{path}: an empty list; expected a scene or scenarios")
        data, prefix = data[0], "0."
    if isinstance(data, dict) and "scene" in data:
        data, prefix = data["scene"], prefix + "scene."
    if not isinstance(data, dict):
        raise SceneFileError(f"{path}: expected a scene mapping (viewpoint, objects), got {type(data).__name__}")
    try:
        return SceneSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = prefix + ".".join(str(p) for p in first["loc"])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        msg = first["msg"].removeprefix("Value error, ")
        raise SceneFileError(f"{path}: {where.rstrip('.') or 'scene'}: {msg}{more}") from None


def check_object_count(n: int) -> int:
    """``--objects`` for a sampled scene: 1..MAX_SCENE_OBJECTS, else a one-line error."""
    if not 1 <= n <= MAX_SCENE_OBJECTS:
        raise SceneFileError(f"--objects {n}: a sampled scene holds 1 to {MAX_SCENE_OBJECTS} objects")
    return n
