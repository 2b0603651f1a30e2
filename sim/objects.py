"""PyBullet bodies for :class:`sim.scene.ObjectSpec`: cube, ball, cylinder and an open bowl.

Every body is built from primitive collision shapes (no meshes, nothing downloaded), coloured
from ``scene.COLORS``, and rests on the table surface at z = 0. The bowl is a real container: a
base disc plus a ring of wall boxes in one compound collision shape, so objects can fall in and
stay there. Geometry (metres) comes from :func:`object_geometry`, which the success checks and
the scripted expert reuse so all three agree on sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from sim.scene import COLORS, SIZE_METRES, ObjectSpec, SceneSpec, footprint_radius

#: Bowl wall height and thickness, base thickness (metres).
BOWL_HEIGHT = 0.045
BOWL_WALL = 0.008
BOWL_BASE = 0.006
#: Wall boxes around the ring (overlapping, no gaps). PyBullet's createVisualShapeArray
#: segfaults beyond 16 shapes, and the base disc is one of them, so 15.
BOWL_SEGMENTS = 15
#: Masses (kg). The bowl is heavier so a dropped object does not push it around.
GRASPABLE_MASS = 0.08
BOWL_MASS = 0.6
#: Friction coefficients; high lateral friction makes pinch grasps hold under acceleration.
LATERAL_FRICTION = 1.2
ROLLING_FRICTION = 0.0005
SPINNING_FRICTION = 0.001


@dataclass(frozen=True)
class ObjectGeometry:
    """Size of one object (metres): footprint radius, height, and for bowls the inner radius."""

    height: float
    radius: float
    inner_radius: float = 0.0
    floor: float = 0.0


def object_geometry(spec: ObjectSpec) -> ObjectGeometry:
    """Physical dimensions of an object as built here (bowl: ~3x size wide, 4.5 cm high)."""
    r = footprint_radius(spec.shape, spec.size)
    if spec.shape == "bowl":
        return ObjectGeometry(height=BOWL_HEIGHT, radius=r, inner_radius=r - BOWL_WALL, floor=BOWL_BASE)
    return ObjectGeometry(height=SIZE_METRES[spec.size], radius=r)


@dataclass
class SceneBodies:
    """Body ids of a loaded scene and the id <-> object-id mapping."""

    body_of: dict[str, int] = field(default_factory=dict)
    object_of: dict[int, str] = field(default_factory=dict)

    def add(self, object_id: str, body_id: int) -> None:
        self.body_of[object_id] = body_id
        self.object_of[body_id] = object_id


def _rgba(color: str) -> list[float]:
    return [*COLORS[color], 1.0]


def _build_cube(client: Any, spec: ObjectSpec) -> tuple[int, int]:
    h = SIZE_METRES[spec.size] / 2.0
    col = client.createCollisionShape(client.GEOM_BOX, halfExtents=[h, h, h])
    vis = client.createVisualShape(client.GEOM_BOX, halfExtents=[h, h, h], rgbaColor=_rgba(spec.color))
    return col, vis


def _build_ball(client: Any, spec: ObjectSpec) -> tuple[int, int]:
    r = SIZE_METRES[spec.size] / 2.0
    col = client.createCollisionShape(client.GEOM_SPHERE, radius=r)
    vis = client.createVisualShape(client.GEOM_SPHERE, radius=r, rgbaColor=_rgba(spec.color))
    return col, vis


def _build_cylinder(client: Any, spec: ObjectSpec) -> tuple[int, int]:
    s = SIZE_METRES[spec.size]
    col = client.createCollisionShape(client.GEOM_CYLINDER, radius=s / 2.0, height=s)
    vis = client.createVisualShape(client.GEOM_CYLINDER, radius=s / 2.0, length=s, rgbaColor=_rgba(spec.color))
    return col, vis


def _build_bowl(client: Any, spec: ObjectSpec) -> tuple[int, int]:
    """Compound shape: base disc + BOWL_SEGMENTS wall boxes; frame origin at the table surface."""
    g = object_geometry(spec)
    mid_r = g.radius - BOWL_WALL / 2.0
    # Each wall box spans one ring segment, slightly overlapping its neighbours (no gaps).
    seg_len = 2.0 * g.radius * math.tan(math.pi / BOWL_SEGMENTS) + 0.002
    wall_h = BOWL_HEIGHT - BOWL_BASE
    types = [client.GEOM_CYLINDER]
    radii = [g.radius]
    lengths = [BOWL_BASE]
    extents = [[0.0, 0.0, 0.0]]
    positions = [[0.0, 0.0, BOWL_BASE / 2.0]]
    orientations = [[0.0, 0.0, 0.0, 1.0]]
    for k in range(BOWL_SEGMENTS):
        a = 2.0 * math.pi * k / BOWL_SEGMENTS
        types.append(client.GEOM_BOX)
        radii.append(0.0)
        lengths.append(0.0)
        # Walls stand on the base disc (not on the table): only the disc touches the table,
        # which keeps contact count, and physics time, low (0.48 -> ~0.15 ms per step).
        extents.append([BOWL_WALL / 2.0, seg_len / 2.0, wall_h / 2.0])
        positions.append([mid_r * math.cos(a), mid_r * math.sin(a), BOWL_BASE + wall_h / 2.0])
        orientations.append(list(client.getQuaternionFromEuler([0.0, 0.0, a])))
    col = client.createCollisionShapeArray(
        shapeTypes=types, radii=radii, halfExtents=extents, lengths=lengths,
        collisionFramePositions=positions, collisionFrameOrientations=orientations,
    )
    rgba = _rgba(spec.color)
    vis = client.createVisualShapeArray(
        shapeTypes=types, radii=radii, halfExtents=extents, lengths=lengths,
        rgbaColors=[rgba] * len(types), visualFramePositions=positions,
        visualFrameOrientations=orientations,
    )
    return col, vis


#: Shape name -> builder returning (collision shape id, visual shape id).
SHAPE_BUILDERS: dict[str, Callable[[Any, ObjectSpec], tuple[int, int]]] = {
    "cube": _build_cube,
    "ball": _build_ball,
    "cylinder": _build_cylinder,
    "bowl": _build_bowl,
}


def lowest_z(spec: ObjectSpec, position: Any, orientation: Any) -> float:
    """z (metres) of the body's lowest point at this pose (quaternion x, y, z, w): a cube tilted
    45 degrees against a bowl's wall reaches its floor with a corner while its centre stands
    a full half-diagonal up. A bowl's frame origin is its underside."""
    z = float(position[2])
    if spec.shape == "bowl":
        return z
    s = SIZE_METRES[spec.size]
    if spec.shape == "ball":
        return z - s / 2.0
    x, y, qz, w = (float(v) for v in orientation)
    # The last row of the rotation matrix: how far each body axis points up.
    up = (2.0 * (x * qz - w * y), 2.0 * (y * qz + w * x), 1.0 - 2.0 * (x * x + y * y))
    if spec.shape == "cube":
        return z - s / 2.0 * sum(abs(c) for c in up)
    # Cylinder, axis along body z: its end disc's rim is lowest.
    axis_up = min(1.0, abs(up[2]))
    return z - (s / 2.0 * axis_up + s / 2.0 * math.sqrt(max(0.0, 1.0 - axis_up * axis_up)))


def spawn_height(spec: ObjectSpec) -> float:
    """z (metres) of the body frame when the object rests on the table."""
    return 0.0 if spec.shape == "bowl" else SIZE_METRES[spec.size] / 2.0


def create_object(client: Any, spec: ObjectSpec) -> int:
    """Create one body resting on the table at ``spec.position``; returns the body id."""
    if spec.shape not in SHAPE_BUILDERS:
        raise KeyError(f"no builder for shape {spec.shape!r}; known: {sorted(SHAPE_BUILDERS)}")
    col, vis = SHAPE_BUILDERS[spec.shape](client, spec)
    mass = BOWL_MASS if spec.shape == "bowl" else GRASPABLE_MASS
    body = client.createMultiBody(
        baseMass=mass,
        baseCollisionShapeIndex=col,
        baseVisualShapeIndex=vis,
        basePosition=[spec.position[0], spec.position[1], spawn_height(spec)],
        baseOrientation=client.getQuaternionFromEuler([0.0, 0.0, spec.yaw]),
    )
    client.changeDynamics(
        body, -1, lateralFriction=LATERAL_FRICTION, rollingFriction=ROLLING_FRICTION,
        spinningFriction=SPINNING_FRICTION,
    )
    return body


def create_scene_objects(client: Any, scene: SceneSpec) -> SceneBodies:
    """Create every object of ``scene``; returns the body id <-> object id mapping."""
    bodies = SceneBodies()
    for spec in scene.objects:
        bodies.add(spec.id, create_object(client, spec))
    return bodies
