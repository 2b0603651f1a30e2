"""A perceived object's 3-D bounding box, projected into the camera image.

The pixel box of :class:`perception.types.PerceivedObject` covers the pixels the object shows
(its top and the faces towards the camera). The policy's chain of thought boxes the whole
object instead: its demonstrations carry the true 3-D box projected into the image
(``agent.commands.collect.project_boxes``): the box around the circle the footprint fits in,
from the surface the object rests on to its top. To hand the policy the agent's choice in the
format it learned, this rebuilds that box from what perception measured: the footprint centre
(``position``), the height between the support and the top (``position[2]`` is halfway up,
``height`` the top), and the footprint radius: half the measured horizontal extent, averaged for
a cube, ball or cylinder with what its height implies (the objects of this table are as wide as
they are tall; a cube's circle reaches its corners, half the diagonal), since the visible points
of a round or turned object span less than its footprint. Against the true projected boxes of 90
evaluation scenes (96 px) the IoU is 0.77-0.92 per shape, against 0.48-0.85 for the pixel boxes
(measured before the camera model's column fix). Nothing here reads the simulator.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from perception.types import PerceivedObject

Box = tuple[float, float, float, float]
#: Footprint radius / height of the shapes as wide as they are tall.
RADIUS_PER_HEIGHT: dict[str, float] = {"cube": math.sqrt(2.0) / 2.0, "ball": 0.5, "cylinder": 0.5}


def footprint_radius(obj: PerceivedObject, tall: float) -> float:
    """Radius (m) of the circle the footprint fits in; ``tall``: support to top (m). Half the
    measured extent, averaged with ``RADIUS_PER_HEIGHT * tall`` for the shapes listed there."""
    per_height = RADIUS_PER_HEIGHT.get(obj.shape)
    measured = float(obj.extent or 0.0) / 2.0
    return 0.5 * (per_height * tall + measured) if per_height is not None else measured


def projected_box(obj: PerceivedObject, camera: Any) -> Optional[Box]:
    """(x0, y0, x1, y1) as fractions of the image, of ``obj``'s measured 3-D box seen by
    ``camera`` (anything with ``project((N, 3)) -> (N, 2)`` pixels, ``width`` and ``height``);
    None when extent or height were not measured or the box falls outside the image."""
    if obj.extent is None or obj.height is None:
        return None
    cx, cy, cz = obj.position
    top = float(obj.height)
    bottom = max(2.0 * float(cz) - top, 0.0)  # the support surface: cz is halfway up from it
    half = footprint_radius(obj, top - bottom)
    corners = np.array([[cx + dx, cy + dy, z] for dx in (-half, half) for dy in (-half, half) for z in (bottom, top)])
    uv = np.asarray(camera.project(corners), dtype=np.float64)
    size = np.array([camera.width, camera.height], dtype=np.float64)
    x0, y0 = uv.min(axis=0) / size
    x1, y1 = uv.max(axis=0) / size
    if x1 <= 0 or y1 <= 0 or x0 >= 1 or y0 >= 1:
        return None
    return tuple(float(np.clip(v, 0.0, 1.0)) for v in (x0, y0, x1, y1))  # type: ignore[return-value]
