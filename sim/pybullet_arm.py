"""PyBullet backend of :class:`sim.arm.Arm`: a Franka Panda on a tabletop with a front camera.

Each arm owns its own physics client (``BulletClient``; DIRECT by default, ``gui=True`` opens a
window), so several arms/envs can live in one process. Control: every :meth:`send_action`
clips the 7-D delta to the :class:`SafetyEnvelope`, adds it to the *commanded* end-effector
target (grasp point between the fingertips, link 11), solves IK for a gripper pointing straight
down at the commanded yaw, and runs ``physics_hz / control_hz`` physics substeps of position
control (simulated time only). Because deltas accumulate on the commanded target, a zero action
holds the arm where it was commanded: it stops within one control step and does not drift.
Roll and pitch deltas are not applied (the gripper stays vertical) and are returned as 0.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Optional

import numpy as np

from sim.arm import STATE_DIM, Arm, register_arm
from common.camera import CameraModel
from sim.objects import SceneBodies, create_scene_objects
from sim.pybullet_camera import CameraConfig, camera_model, render
from sim.pybullet_camera import render as render_frame
from sim.safety import SafetyEnvelope
from sim.scene import SceneSpec

EE_LINK = 11
FINGER_JOINTS = (9, 10)
ARM_JOINTS = tuple(range(7))
#: Joint-space home: gripper pointing down ~0.45 m above the table, in front of the base.
HOME_JOINTS = (0.0, -0.55, 0.0, -2.35, 0.0, 1.80, 0.785)
#: Finger travel per finger (metres); opening 1.0 = both fingers at 0.04 m (8 cm gap).
FINGER_TRAVEL = 0.04
ARM_FORCE = 240.0  # N m, generous so tracking is stiff under load
FINGER_FORCE = 60.0  # N per finger, enough to lift a 80 g object by friction
FINGER_FRICTION = 1.5


@dataclass(frozen=True)
class ObjectPose:
    """Pose of one body: position (3,) metres and quaternion (x, y, z, w), base frame."""

    position: np.ndarray
    orientation: np.ndarray


class PyBulletArm(Arm):
    """Franka Panda in PyBullet.

    Args:
        camera: front camera pose and resolution (default 96 x 96).
        gui: open a PyBullet window (needs a display) instead of DIRECT.
        render: include camera images in :meth:`get_observation` (False = state only, fast).
        physics_hz, control_hz: physics rate and control rate; one action = the ratio of substeps.
        safety: limits every action is clipped to.
    """

    name = "pybullet"

    def __init__(
        self,
        camera: Optional[CameraConfig] = None,
        *,
        gui: bool = False,
        render: bool = True,
        physics_hz: int = 240,
        control_hz: int = 10,
        safety: Optional[SafetyEnvelope] = None,
        detail_size: Optional[int] = None,
    ) -> None:
        if physics_hz % control_hz:
            raise ValueError(f"physics_hz ({physics_hz}) must be a multiple of control_hz ({control_hz})")
        self.camera_config = camera or CameraConfig()
        # Square size (pixels) of the detailed frame perception looks at (same pose and field of
        # view); None: perception sees the policy's frame. Shapes of 4 cm objects read 95.8% right
        # at 96 px and 100% at 160 px (docs/RESULTS.md, perception).
        self.detail_size = detail_size
        self.gui = gui
        self.render = render
        self.physics_hz = physics_hz
        self.control_hz = control_hz
        self.substeps = physics_hz // control_hz
        self.safety = safety or SafetyEnvelope()
        self._client: Any = None
        self._robot = -1
        self._bodies = SceneBodies()
        self._scene: Optional[SceneSpec] = None
        # Commanded ee target (metres), yaw (rad) and gripper command (0 open .. 1 closed).
        self._target = np.zeros(3)
        self._yaw = 0.0
        self._grip = 0.0
        self._ll: list[float] = []
        self._ul: list[float] = []

    # ---------------------------------------------------------------- features / lifecycle
    @property
    def observation_features(self) -> dict[str, tuple[tuple[int, ...], str]]:
        h, w = self.camera_config.height, self.camera_config.width
        return {
            "rgb": ((h, w, 3), "uint8"),
            "depth": ((h, w), "float32"),
            "segmentation": ((h, w), "int32"),
            "camera": ((), "CameraModel"),
            "state": ((STATE_DIM,), "float32"),
        }

    @property
    def is_connected(self) -> bool:
        return self._client is not None

    @property
    def client(self) -> Any:
        """The PyBullet client (for the env layer and tests); raises when not connected."""
        if self._client is None:
            raise RuntimeError("PyBulletArm is not connected; call connect() first")
        return self._client

    def connect(self) -> None:
        if self._client is not None:
            return
        from sim.quiet_stdout import quiet_c_stdout

        try:
            with quiet_c_stdout():  # the C library prints a build-time banner on import
                import pybullet
                import pybullet_data
                from pybullet_utils.bullet_client import BulletClient
        except ImportError as err:  # the sim layer's one heavy dependency
            raise ImportError("the PyBullet arm needs pybullet: pip install pybullet==3.2.7") from err

        with quiet_c_stdout():  # ... and "argv[0]=" on every connect
            self._client = BulletClient(connection_mode=pybullet.GUI if self.gui else pybullet.DIRECT)
        self._client.setAdditionalSearchPath(pybullet_data.getDataPath())
        self._build_world()

    def _build_world(self) -> None:
        """Empty the physics world and load plane + robot (deterministic: no state carried over)."""
        c = self.client
        c.resetSimulation()
        c.setGravity(0.0, 0.0, -9.81)
        c.setTimeStep(1.0 / self.physics_hz)
        # The plane is the table surface (z = 0); the robot base sits on it at the origin.
        plane = c.loadURDF("plane.urdf")
        c.changeDynamics(plane, -1, lateralFriction=1.0)
        self._robot = c.loadURDF("franka_panda/panda.urdf", useFixedBase=True)
        for j in FINGER_JOINTS:
            c.changeDynamics(self._robot, j, lateralFriction=FINGER_FRICTION, spinningFriction=0.001)
        # Couple the fingers like the real gripper's mechanism: without it both fingers squeeze
        # at their force limit and a held object slides freely along the closing axis.
        gear = c.createConstraint(
            self._robot, FINGER_JOINTS[0], self._robot, FINGER_JOINTS[1], jointType=c.JOINT_GEAR,
            jointAxis=[1, 0, 0], parentFramePosition=[0, 0, 0], childFramePosition=[0, 0, 0],
        )
        c.changeConstraint(gear, gearRatio=-1, erp=0.1, maxForce=200)
        infos = [c.getJointInfo(self._robot, j) for j in ARM_JOINTS]
        self._ll = [i[8] for i in infos]
        self._ul = [i[9] for i in infos]
        self._bodies = SceneBodies()
        self._scene = None
        self.reset_home()

    def disconnect(self) -> None:
        if self._client is not None:
            self._client.disconnect()
        self._client = None
        self._bodies = SceneBodies()
        self._scene = None

    # ---------------------------------------------------------------- scene
    def reset_home(self) -> None:
        """Teleport the arm to its home pose with the gripper open (episode start only)."""
        c = self.client
        for j, q in zip(ARM_JOINTS, HOME_JOINTS):
            c.resetJointState(self._robot, j, q)
        for j in FINGER_JOINTS:
            c.resetJointState(self._robot, j, FINGER_TRAVEL)
        pos, _ = self._ee_pose()
        self._target = pos.copy()
        self._yaw = 0.0
        self._grip = 0.0
        self._apply_targets()

    def load_scene(self, scene: SceneSpec, settle_steps: int = 24) -> SceneBodies:
        """Rebuild the world with ``scene``'s objects, home the arm, let objects settle.

        The whole simulation is reset, so the same scene always gives the same physics.
        """
        self._build_world()
        c = self.client
        self._bodies = create_scene_objects(c, scene)
        self._scene = scene
        self.reset_home()
        for _ in range(settle_steps):
            c.stepSimulation()
        return self._bodies

    def set_object_poses(self, poses: dict[str, ObjectPose], settle_steps: int = 24) -> None:
        """Teleport the scene's objects to ``poses`` (object id -> pose; others stay), then let them
        settle: a session resumed after a kill stands on the table it left (an object that was
        in the hand drops where the hand was)."""
        c = self.client
        for oid, pose in poses.items():
            body = self._bodies.body_of.get(oid)
            if body is None:
                raise KeyError(f"no object {oid!r} in the loaded scene")
            c.resetBasePositionAndOrientation(body, [float(v) for v in pose.position],
                                              [float(v) for v in pose.orientation])
            c.resetBaseVelocity(body, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
        for _ in range(settle_steps):
            c.stepSimulation()

    @property
    def bodies(self) -> SceneBodies:
        """Body id <-> object id of the loaded scene."""
        return self._bodies

    @property
    def segmentation_labels(self) -> dict[int, str]:
        """Segmentation value -> object id (values index ``scene.objects``; -1 is background)."""
        if self._scene is None:
            return {}
        return {i: o.id for i, o in enumerate(self._scene.objects)}

    def object_poses(self) -> dict[str, ObjectPose]:
        """True pose of every scene object (privileged simulator state)."""
        c = self.client
        out = {}
        for oid, body in self._bodies.body_of.items():
            pos, orn = c.getBasePositionAndOrientation(body)
            out[oid] = ObjectPose(np.asarray(pos, dtype=np.float64), np.asarray(orn, dtype=np.float64))
        return out

    def robot_contacts(self, object_id: str) -> int:
        """Number of contact points between the robot and an object (0 = not touching)."""
        return len(self.client.getContactPoints(bodyA=self._robot, bodyB=self._bodies.body_of[object_id]))

    # ---------------------------------------------------------------- observation
    @property
    def camera(self) -> CameraModel:
        return camera_model(self.camera_config)

    def get_state(self) -> np.ndarray:
        """float32 (8,): ee xyz (m), ee rpy (rad, relative to pointing straight down, so a
        vertical gripper reads (0, 0, yaw)), gripper opening 0 (closed) .. 1 (fully open, 8 cm),
        last gripper command 0 (open) .. 1 (closed)."""
        c = self.client
        pos, orn = self._ee_pose()
        # Express orientation relative to the 'down' frame Rx(pi) so roll does not wrap at +-pi.
        down_inv = c.getQuaternionFromEuler([-np.pi, 0.0, 0.0])
        _, rel = c.multiplyTransforms([0, 0, 0], orn, [0, 0, 0], down_inv)
        rpy = c.getEulerFromQuaternion(rel)
        fingers = sum(c.getJointState(self._robot, j)[0] for j in FINGER_JOINTS)
        opening = float(np.clip(fingers / (2 * FINGER_TRAVEL), 0.0, 1.0))
        return np.asarray([*pos, *rpy, opening, self._grip], dtype=np.float32)

    def get_observation(self, render: Optional[bool] = None, detail: bool = False) -> dict[str, Any]:
        """Observation dict per ``sim/arm.py``; with rendering off only "state" and "camera".
        ``detail``: rendered at ``detail_size`` (when set), "camera" then describing that frame."""
        config = self.camera_config
        if detail and self.detail_size and self.detail_size != config.width:
            config = replace(config, width=self.detail_size, height=self.detail_size)
        obs: dict[str, Any] = {"state": self.get_state(), "camera": camera_model(config)}
        if self.render if render is None else render:
            frame = render_frame(self.client, config, hardware=self.gui)
            obs["rgb"], obs["depth"] = frame.rgb, frame.depth
            obs["segmentation"] = self.segment(frame.body_mask)
        return obs

    def segment(self, body_mask: np.ndarray) -> np.ndarray:
        """Raw PyBullet body-id mask -> object indices into ``scene.objects`` (-1 elsewhere)."""
        out = np.full(body_mask.shape, -1, dtype=np.int32)
        if self._scene is None:
            return out
        for index, obj in enumerate(self._scene.objects):
            out[body_mask == self._bodies.body_of[obj.id]] = index
        return out

    # ---------------------------------------------------------------- control
    @property
    def commanded(self) -> tuple[np.ndarray, float, float]:
        """Commanded (ee xyz (3,), yaw rad, gripper 0..1) the controller is tracking."""
        return self._target.copy(), self._yaw, self._grip

    def send_action(self, action: np.ndarray) -> np.ndarray:
        sent = self.safety.clip(action, self._target, self._yaw)
        sent[3:5] = 0.0  # roll/pitch are not applied: the gripper stays vertical
        self._target = self._target + sent[:3].astype(np.float64)
        self._yaw = float(self._yaw + sent[5])
        self._grip = float(sent[6])
        self._apply_targets()
        for _ in range(self.substeps):
            self.client.stepSimulation()
        return sent

    def hold(self) -> np.ndarray:
        """Stop now: re-command the current measured pose and keep the gripper; one control step."""
        pos, _ = self._ee_pose()
        self._target = np.clip(pos, self.safety.workspace_min, self.safety.workspace_max)
        return self.send_action(np.asarray([0, 0, 0, 0, 0, 0, self._grip], dtype=np.float32))

    def _ee_pose(self) -> tuple[np.ndarray, tuple[float, ...]]:
        st = self.client.getLinkState(self._robot, EE_LINK, computeForwardKinematics=True)
        return np.asarray(st[4], dtype=np.float64), st[5]

    def _apply_targets(self) -> None:
        c = self.client
        orn = c.getQuaternionFromEuler([np.pi, 0.0, self._yaw])
        q = c.calculateInverseKinematics(
            self._robot, EE_LINK, self._target.tolist(), orn,
            lowerLimits=self._ll + [0.0, 0.0], upperLimits=self._ul + [0.04, 0.04],
            jointRanges=[u - lo for lo, u in zip(self._ll, self._ul)] + [0.04, 0.04],
            restPoses=list(HOME_JOINTS) + [0.02, 0.02],
            maxNumIterations=100, residualThreshold=1e-5,
        )
        c.setJointMotorControlArray(
            self._robot, list(ARM_JOINTS), c.POSITION_CONTROL, targetPositions=list(q[:7]),
            forces=[ARM_FORCE] * 7,
        )
        width = FINGER_TRAVEL * (1.0 - self._grip)
        c.setJointMotorControlArray(
            self._robot, list(FINGER_JOINTS), c.POSITION_CONTROL, targetPositions=[width, width],
            forces=[FINGER_FORCE] * 2,
        )


def render_camera(arm: PyBulletArm) -> Any:
    """Render the arm's front camera (GUI arms use the OpenGL renderer)."""
    return render(arm.client, arm.camera_config, hardware=arm.gui)


@register_arm("pybullet")
def _make_pybullet_arm(**kwargs: Any) -> PyBulletArm:
    return PyBulletArm(**kwargs)
