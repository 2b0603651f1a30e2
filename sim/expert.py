"""Scripted pick-and-place expert (privileged: it reads the simulator's true object poses).

It is the oracle used to collect demonstrations and to bound what a learned policy could do;
it never looks at images. A small state machine walks through waypoints for the grasp point
(link 11, between the fingertips): approach above the object, descend, close, lift, carry above
the target, lower, release, retreat. Each phase moves at most ``max_step`` metres per control
step (below the safety envelope's limit) and finishes when the ee is within ``tolerance`` of the
waypoint, then waits its settle steps (gripper closing / opening takes simulated time).

With ``return_to`` (the object's original centre, metres) the expert PUTS THE OBJECT BACK
instead ("no, the other one" after the wrong pick): if it holds the object it lifts straight
up, carries it to ``return_to``, lowers, releases and retreats up; if the object was already
set down elsewhere it picks it up again first; if it never grasped it, it only rises straight
up with the gripper open, so no sideways motion drags the object along.

With ``take_over=True`` the expert also does the task from wherever the arm already is (the
labels of DAgger rows: what the expert would do in a state the learned policy drove the arm
into): holding the object it finishes closing or lifts on, otherwise it opens and approaches.

``next_actions(state, poses)`` returns a chunk of (chunk_size, 7) delta actions and assumes the
caller executes the whole chunk before asking again (its phase bookkeeping advances with the
chunk). The agent layer wraps it into a Policy; sim never imports policy/.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np

from common.proprio import Proprio

from sim.arm import ACTION_DIM
from sim.objects import object_geometry
from sim.pybullet_arm import FINGER_TRAVEL, ObjectPose
from sim.scene import SceneSpec
from sim.relations import Footprint, choose_spot, free_spot_in, lying_in
from sim.success import task_spots
from sim.task_sampling import target_is_clear
from sim.tasks import TaskSpec

CARRY_CLEARANCE = 0.07  # metres between a carried object's bottom and the tallest thing (bowl rims)
APPROACH_HEIGHT = 0.08  # metres above the grasp point to start the descent
MIN_GRASP_Z = 0.018  # metres: lowest grasp point, keeps fingertips off the table
RELEASE_GAP = 0.006  # metres between the object's bottom and its support when released
OPEN, CLOSED = 0.0, 1.0


@dataclass(frozen=True)
class Waypoint:
    """Where the ee should go and what to do there."""

    name: str
    xyz: np.ndarray  # (3,) metres, base frame
    yaw: float  # radians
    gripper: float  # command 0 open .. 1 closed
    max_step: float  # metres per control step
    tolerance: float  # metres: close enough to move on
    settle: int  # control steps to wait once reached


def _yaw_of(orientation: np.ndarray) -> float:
    x, y, z, w = orientation
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def grasp_yaw(shape: str, orientation: np.ndarray) -> float:
    """Gripper yaw (rad) for a top-down grasp: a cube's yaw folded into [-pi/4, pi/4]."""
    if shape != "cube":
        return 0.0
    yaw = _yaw_of(orientation)
    return float((yaw + math.pi / 4) % (math.pi / 2) - math.pi / 4)


class ScriptedExpert:
    """Privileged scripted expert for one :class:`TaskSpec` in one :class:`SceneSpec`."""

    PHASES = ("approach", "descend", "close", "lift", "carry", "lower", "release", "retreat", "done")

    def __init__(self, task: TaskSpec, scene: SceneSpec, chunk_size: int = 4, max_step: float = 0.028,
                 return_to: Optional[np.ndarray] = None, take_over: bool = False) -> None:
        self.task, self.scene = task, scene
        self.chunk_size = chunk_size
        self.max_step = max_step
        # (3,) metres: put ``task.pick`` back here (see the module docstring); None = do the task.
        self.return_to = None if return_to is None else np.asarray(return_to, dtype=np.float64)
        # Pick the first phase from what the arm holds, not "approach" (see the module docstring).
        self.take_over = take_over
        self.reset()

    def reset(self) -> None:
        """Start the task from the first phase."""
        self._phase = 0
        self._waited = 0
        self._place_xy: Optional[np.ndarray] = None
        self._grasp_yaw: Optional[float] = None
        self._retreat_xyz: Optional[np.ndarray] = None
        # A put-back or a take-over picks its first phase from what it sees.
        self._started = self.return_to is None and not self.take_over
        self._never_grasped = False  # put-back of an object never grasped: only rise, fingers open

    @property
    def phase(self) -> str:
        return self.PHASES[self._phase]

    @property
    def done(self) -> bool:
        return self.phase == "done"

    # ---------------------------------------------------------------- planning
    def _carry_z(self, held_offset: float) -> float:
        tallest = max((object_geometry(o).height for o in self.scene.objects if o.id != self.task.pick), default=0.0)
        bottom_to_grasp = object_geometry(self.scene.get(self.task.pick)).height / 2.0 + held_offset
        return tallest + CARRY_CLEARANCE + bottom_to_grasp

    @property
    def _places(self) -> bool:
        """The task ends with the object set down (a placement or a put-back), not held up."""
        return self.task.places or self.return_to is not None

    def _start_from_what_it_sees(self, ee: np.ndarray, yaw: float, gripper_opening: float, closing: bool,
                                 poses: Mapping[str, ObjectPose]) -> None:
        """First phase of a put-back or a take-over from the gripper and the object's true pose
        (privileged); ``closing``: the gripper is commanded closed."""
        g = object_geometry(self.scene.get(self.task.pick))
        obj = poses[self.task.pick].position
        between_fingers = (float(np.linalg.norm(ee[:2] - obj[:2])) < 0.03
                           and abs(float(ee[2] - obj[2])) < g.height / 2.0 + 0.02)
        # The finger opening (1 = wide open): partly closed around it = holding it.
        if between_fingers and gripper_opening < 0.95:
            # Finish closing where it is (no motion), then lift straight up; keep the wrist's yaw.
            # A take-over whose hand is already closed on it goes straight on lifting.
            start = "lift" if closing and self.take_over else "close"
            self._phase, self._grasp_yaw = self.PHASES.index(start), yaw
        elif self.return_to is None:
            self._phase = self.PHASES.index("approach")  # take-over, not holding it: (re)grasp
        elif float(np.linalg.norm(obj[:2] - self.return_to[:2])) > 0.01:
            self._phase = self.PHASES.index("approach")  # set down elsewhere: fetch it back
        else:
            # Never grasped: rise straight up, fingers open, and stop there.
            self._phase = self.PHASES.index("retreat")
            self._retreat_xyz = np.array([ee[0], ee[1], max(float(ee[2]), float(obj[2]) + APPROACH_HEIGHT)])
            self._never_grasped, self._grasp_yaw = True, yaw
        self._started = True

    def _choose_place_xy(self, poses: Mapping[str, ObjectPose]) -> np.ndarray:
        if self.return_to is not None:
            return self.return_to[:2].copy()
        positions = {k: p.position for k, p in poses.items()}
        if self.task.relation == "in" and self.task.place is not None:
            return free_spot_in_bowl(self.scene, self.task, positions)
        cands = task_spots(self.scene, self.task, positions)
        # next_to: the clear side nearest to where the object is now (shortest carry); a region:
        # the clear spot nearest its centre (sim.relations.region_spots' order).
        toward = positions[self.task.pick][:2] if self.task.relation == "next_to" else None
        return choose_spot(cands, lambda xy: target_is_clear(self.scene, self.task, xy), toward)

    def _support_z(self, poses: Mapping[str, ObjectPose]) -> float:
        """z (m) of the surface the object is placed onto."""
        if self.return_to is not None:
            # Where it stood before: its old centre minus half its height.
            return float(self.return_to[2]) - object_geometry(self.scene.get(self.task.pick)).height / 2.0
        if self.task.place is None or self.task.relation not in ("in", "on"):
            return 0.0
        ref_spec = self.scene.get(self.task.place)
        ref_z = float(poses[self.task.place].position[2])
        g = object_geometry(ref_spec)
        return ref_z + g.floor if self.task.relation == "in" else ref_z + g.height / 2.0

    def _waypoint(self, ee: np.ndarray, held: np.ndarray, poses: Mapping[str, ObjectPose]) -> Waypoint:
        """Current phase's waypoint; ``held`` (3,) = grasp point minus object centre (metres)."""
        pick = self.scene.get(self.task.pick)
        g = object_geometry(pick)
        obj = poses[pick.id]
        if self._grasp_yaw is None:
            self._grasp_yaw = grasp_yaw(pick.shape, obj.orientation)
        yaw, s = self._grasp_yaw, self.max_step
        grasp = np.array([obj.position[0], obj.position[1], max(float(obj.position[2]), MIN_GRASP_Z)])
        phase = self.phase
        if phase == "approach":
            return Waypoint(phase, grasp + [0, 0, APPROACH_HEIGHT], yaw, OPEN, s, 0.01, 0)
        if phase == "descend":
            return Waypoint(phase, grasp, yaw, OPEN, 0.015, 0.006, 1)
        if phase == "close":
            return Waypoint(phase, ee, yaw, CLOSED, 0.0, 1.0, 4)
        if phase == "lift":
            return Waypoint(phase, np.array([ee[0], ee[1], self._carry_z(held[2])]), yaw, CLOSED, 0.02, 0.01, 0)
        if phase == "done" and not self._places:
            return Waypoint(phase, ee, yaw, CLOSED, 0.0, 1.0, 0)
        if self._place_xy is None:
            self._place_xy = self._choose_place_xy(poses)
        goal_xy = self._place_xy + held[:2]
        if phase == "carry":
            return Waypoint(phase, np.array([*goal_xy, self._carry_z(held[2])]), yaw, CLOSED, s, 0.006, 1)
        place_z = self._support_z(poses) + RELEASE_GAP + g.height / 2.0 + held[2]
        if phase == "lower":
            return Waypoint(phase, np.array([*goal_xy, place_z]), yaw, CLOSED, 0.015, 0.004, 1)
        # Open only a little wider than the object so fingers stay clear of bowl walls.
        release = float(np.clip(1.0 - (g.height + 0.025) / (2 * FINGER_TRAVEL), 0.0, 1.0))
        if self._never_grasped:
            release = OPEN
        if phase == "release":
            return Waypoint(phase, ee, yaw, release, 0.0, 1.0, 4)
        if phase == "retreat":
            if self._retreat_xyz is None:
                self._retreat_xyz = ee + [0.0, 0.0, 0.08]
            return Waypoint(phase, self._retreat_xyz, yaw, release, 0.02, 0.01, 0)
        return Waypoint("done", ee, yaw, release, 0.0, 1.0, 0)

    # ---------------------------------------------------------------- acting
    def begin(self, state: np.ndarray, poses: Mapping[str, ObjectPose]) -> None:
        """Settle the first phase from what the arm holds (a put-back or take-over; no-op otherwise
        or later)."""
        if not self._started:
            hand = Proprio.from_array(state)
            self._start_from_what_it_sees(hand.xyz, hand.yaw, hand.opening, hand.closed, poses)
    def next_actions(self, state: np.ndarray, poses: Mapping[str, ObjectPose]) -> np.ndarray:
        """A (chunk_size, 7) float32 chunk of delta actions from the ee ``state`` (8,) and true poses."""
        hand = Proprio.from_array(state)
        ee, yaw = hand.xyz, hand.yaw
        # Grasp point minus object centre, from measurements (not predictions): once held, this
        # offset carries the object's true position into the carry / place waypoints.
        held = ee - poses[self.task.pick].position
        self.begin(state, poses)
        chunk = np.zeros((self.chunk_size, ACTION_DIM), dtype=np.float32)
        for i in range(self.chunk_size):
            wp = self._waypoint(ee, held, poses)
            if wp.name == "done":
                chunk[i, 6] = wp.gripper  # hold still (zero delta), keep the gripper as it is
                continue
            delta = wp.xyz - ee
            dist = float(np.linalg.norm(delta))
            if dist > wp.max_step:
                delta *= wp.max_step / dist
            dyaw = float(np.clip(wp.yaw - yaw, -0.12, 0.12))
            chunk[i, :3], chunk[i, 5], chunk[i, 6] = delta, dyaw, wp.gripper
            ee, yaw = ee + delta, yaw + dyaw
            if float(np.linalg.norm(wp.xyz - ee)) <= wp.tolerance and abs(wp.yaw - yaw) < 0.05:
                if self._waited >= wp.settle:
                    # A pick ends holding the object up: skip the placing phases.
                    finished_pick = not self._places and wp.name == "lift"
                    self._phase = self.PHASES.index("done") if finished_pick else self._phase + 1
                    self._waited = 0
                else:
                    self._waited += 1
        return chunk


def free_spot_in_bowl(scene: SceneSpec, task: TaskSpec, positions: Mapping[str, np.ndarray]) -> np.ndarray:
    """Where to let go into the task's bowl (x, y, metres): ``sim.relations.free_spot_in`` with
    the simulator's geometry and the objects whose centres lie inside its wall."""
    x, y = positions[str(task.place)][:2]
    g = object_geometry(scene.get(str(task.place)))
    bowl = Footprint((float(x), float(y)), g.radius)
    others = [positions[o.id] for o in scene.objects if o.id not in (task.pick, task.place)]
    inside = lying_in(bowl, g.inner_radius, others)
    return free_spot_in(bowl, g.inner_radius, object_geometry(scene.get(task.pick)).radius, inside)
