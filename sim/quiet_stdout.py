"""Silence C-level stdout (file descriptor 1) for a block: pybullet's C code prints a banner
(``argv[0]=``) on every connect straight to fd 1, past Python's ``sys.stdout``."""

from __future__ import annotations

import ctypes
import os
import sys
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def quiet_c_stdout() -> Iterator[None]:
    """Point fd 1 at /dev/null for the duration; Python-level output is flushed first. Where fd 1
    cannot be duplicated (an embedding that closed it) the block simply runs unsilenced."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        _flush_c_stdio()  # what C buffered while silenced goes to /dev/null, not out later
        os.dup2(saved, 1)
        os.close(saved)


def _flush_c_stdio() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no C library handle: nothing to flush
        pass
