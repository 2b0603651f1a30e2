"""The action head's geometry input: the chain of thought's TARGET and PLACE boxes as numbers.

The action queries can read the box tokens of the reasoning through attention, but a small
network decodes a precise position from four ``<loc>`` tokens poorly: teacher-forced on held-out
demo rows, the committed head's carry chunk ended a median 2.7 cm from the expert's (refitted on
the hidden states alone) and 1.2 cm once the same refit also read the boxes as numbers (see
docs/BENCHMARKS.md). With ``PolicyConfig.head_geometry`` the head takes this vector beside the
hidden states: the boxes of whatever reasoning the actions condition on (written, reused or
steered), so steering the TARGET/PLACE box moves the arm directly.

Layout (``GEOMETRY_DIM`` = 10): TARGET x0 y0 x1 y1, TARGET present (1/0), PLACE x0 y0 x1 y1,
PLACE present (1/0); a missing field is all zeros.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from policy.types import ReasonedObject, Reasoning

GEOMETRY_DIM = 10


def _slot(obj: Optional[ReasonedObject]) -> list[float]:
    return [*obj.box, 1.0] if obj is not None else [0.0] * 5


def reasoning_geometry(reasoning: Reasoning) -> np.ndarray:
    """(GEOMETRY_DIM,) float32 vector of ``reasoning``'s TARGET and PLACE boxes (layout above)."""
    return np.asarray(_slot(reasoning.target) + _slot(reasoning.place), dtype=np.float32)


__all__ = ["GEOMETRY_DIM", "reasoning_geometry"]
