"""Scene specification: the typed description of a tabletop that every layer shares.

A scene is a list of objects on the table, each with a shape, a colour, a size and an (x, y)
position in metres in the robot base frame (x forward, away from the robot; y to the robot's
left). ``viewpoint`` says whose left/right the person's words use: ``user`` (default; the person
stands across the table facing the robot, so their left is the robot's right, -y) or ``robot``.

This module imports nothing heavy (no pybullet) so the policy layer can use it on a GPU box.
"""

from __future__ import annotations


import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vocab.words import COLOR_NAMES, SHAPES, SIZES, Shape, Size, Viewpoint


#: Linear sRGB-ish base colours (0..1) used to paint objects, one per colour name of the vocabulary.
COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.10, 0.10),
    "green": (0.10, 0.65, 0.15),
    "blue": (0.10, 0.25, 0.85),
    "yellow": (0.95, 0.85, 0.10),
    "orange": (0.95, 0.50, 0.05),
    "purple": (0.50, 0.15, 0.70),
    "pink": (0.98, 0.55, 0.75),
    "cyan": (0.10, 0.80, 0.85),
    "brown": (0.50, 0.30, 0.12),
    "gray": (0.50, 0.50, 0.50),
    "white": (0.95, 0.95, 0.95),
    "black": (0.08, 0.08, 0.08),
}
if tuple(COLORS) != COLOR_NAMES:
    raise ImportError("sim.scene.COLORS must paint exactly vocab.words.COLOR_NAMES, in that order")
#: Characteristic extent (metres) of each size: cube edge, ball/cylinder diameter.
#: Bowls are scaled separately (their outer diameter is ~3x this) in sim/objects.py.
SIZE_METRES: dict[str, float] = {"small": 0.04, "medium": 0.05, "large": 0.06}

#: Most objects one scene may hold (the segmentation labels and the simulator's scene budget).
MAX_SCENE_OBJECTS = 16

#: Table region objects may be placed in (robot base frame, metres).
TABLE_X = (0.35, 0.70)
TABLE_Y = (-0.25, 0.25)


class ObjectSpec(BaseModel):
    """One object on the table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="unique name inside the scene")
    shape: Shape
    color: str
    size: Size = "medium"
    position: tuple[float, float] = Field(description="(x, y) metres, robot base frame")
    yaw: float = Field(0.0, description="rotation about z, radians")

    @field_validator("color")
    @classmethod
    def _known_color(cls, value: str) -> str:
        if value not in COLORS:
            raise ValueError(f"unknown colour {value!r}; known: {', '.join(COLORS)}")
        return value

    @field_validator("position")
    @classmethod
    def _on_table(cls, value: tuple[float, float]) -> tuple[float, float]:
        x, y = value
        if not (TABLE_X[0] - 0.05 <= x <= TABLE_X[1] + 0.05 and TABLE_Y[0] - 0.05 <= y <= TABLE_Y[1] + 0.05):
            raise ValueError(f"position {value} is off the table (x in {TABLE_X}, y in {TABLE_Y})")
        return value

    def describe(self) -> str:
        """Plain words for the object, e.g. 'small red cube'."""
        return f"{self.size} {self.color} {self.shape}"


class SceneSpec(BaseModel):
    """The whole table: objects plus whose viewpoint spatial words use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    viewpoint: Viewpoint = "user"
    objects: list[ObjectSpec] = Field(min_length=1, max_length=MAX_SCENE_OBJECTS)

    @field_validator("objects")
    @classmethod
    def _unique_ids(cls, objects: list[ObjectSpec]) -> list[ObjectSpec]:
        ids = [o.id for o in objects]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate object ids: {dupes}")
        return objects

    @field_validator("objects")
    @classmethod
    def _apart(cls, objects: list[ObjectSpec]) -> list[ObjectSpec]:
        """Two solid bodies cannot stand in one place: footprints (see :func:`footprint_radius`)
        may touch but not overlap, else the simulator would push them apart or stack them."""
        for i, a in enumerate(objects):
            for b in objects[i + 1:]:
                dist = float(np.hypot(a.position[0] - b.position[0], a.position[1] - b.position[1]))
                need = footprint_radius(a.shape, a.size) + footprint_radius(b.shape, b.size) - OVERLAP_TOLERANCE_M
                if dist < need:
                    raise ValueError(f"objects {a.id!r} and {b.id!r} overlap: their centres are {dist * 100:.1f} cm "
                                     f"apart, their footprints need {need * 100:.1f} cm")
        return objects

    def get(self, object_id: str) -> ObjectSpec:
        for obj in self.objects:
            if obj.id == object_id:
                return obj
        raise KeyError(f"no object {object_id!r} in scene (have {[o.id for o in self.objects]})")


#: Metres two footprints may overlap before a scene is rejected (the radii are round figures).
OVERLAP_TOLERANCE_M = 0.002



#: Bowl outer diameter = this factor x SIZE_METRES (so 0.12 / 0.15 / 0.18 m).
BOWL_DIAMETER_FACTOR = 3.0


def footprint_radius(shape: str, size: str) -> float:
    """Radius (metres) of the circle an object covers on the table: a bowl's outer radius, a
    cube's half diagonal, a ball's or cylinder's radius. The one definition: the bodies
    (``sim.objects.object_geometry``) and the relation geometry (``sim.relations``) use it."""
    s = SIZE_METRES[size]
    if shape == "bowl":
        return BOWL_DIAMETER_FACTOR * s / 2.0
    if shape == "cube":
        return s * float(np.sqrt(2.0)) / 2.0
    return s / 2.0


def spacing_radius(obj: ObjectSpec) -> float:
    """Keep-out radius (metres) that scene sampling spaces objects by: the footprint for a bowl,
    0.75 x the size class otherwise (a little wider than a ball's or cylinder's footprint). Not a
    footprint: kept as it was so every seed still gives the scene it always gave."""
    base = SIZE_METRES[obj.size]
    return base * 1.5 if obj.shape == "bowl" else base * 0.75


def sample_scene(
    rng: np.random.Generator,
    n_objects: int = 4,
    *,
    shapes: tuple[str, ...] = SHAPES,
    colors: tuple[str, ...] = tuple(COLORS),
    min_gap: float = 0.03,
    viewpoint: Viewpoint = "user",
    max_tries: int = 200,
) -> SceneSpec:
    """Sample a random non-overlapping scene from ``rng`` (all randomness comes from it)."""
    objects: list[ObjectSpec] = []
    tries = 0
    while len(objects) < n_objects:
        tries += 1
        if tries > max_tries * n_objects:
            raise RuntimeError(f"could not place {n_objects} objects without overlap")
        shape = str(rng.choice(shapes))
        candidate = ObjectSpec(
            id=f"obj{len(objects)}",
            shape=shape,  # type: ignore[arg-type]
            color=str(rng.choice(colors)),
            size=str(rng.choice(SIZES)),  # type: ignore[arg-type]
            position=(
                float(rng.uniform(TABLE_X[0] + 0.03, TABLE_X[1] - 0.03)),
                float(rng.uniform(TABLE_Y[0] + 0.03, TABLE_Y[1] - 0.03)),
            ),
            yaw=float(rng.uniform(-np.pi / 4, np.pi / 4)),
        )
        if all(_clear(candidate, other, min_gap) for other in objects):
            objects.append(candidate)
    return SceneSpec(viewpoint=viewpoint, objects=objects)


def _clear(a: ObjectSpec, b: ObjectSpec, min_gap: float) -> bool:
    dist = float(np.hypot(a.position[0] - b.position[0], a.position[1] - b.position[1]))
    return dist >= spacing_radius(a) + spacing_radius(b) + min_gap
