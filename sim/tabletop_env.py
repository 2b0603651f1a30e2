"""Gymnasium environment: a Franka Panda tabletop with one pick / place task per episode."""

from __future__ import annotations

from typing import Any, Optional

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sim.arm import ACTION_DIM, STATE_DIM
from common.camera import CameraModel
from sim.objects import lowest_z
from sim.pybullet_arm import ObjectPose, PyBulletArm
from sim.pybullet_camera import CameraConfig
from sim.safety import SafetyEnvelope
from sim.scene import SceneSpec
from sim.success import SuccessReport, WorldState, check_success
from sim.task_sampling import sample_scene_and_task, sample_task
from sim.tasks import TaskSpec

#: Segmentation values are indices into ``scene.objects``; scenes hold at most this many.
MAX_OBJECTS = 16


class TabletopEnv(gym.Env):
    """Tabletop pick-and-place with a Franka Panda in PyBullet.

    ## Description
    Objects (cubes, balls, cylinders, bowls) lie on a table in front of the arm. Each episode has
    a :class:`TaskSpec`: pick an object up, or place it in/on/left_of/... another object, with
    spatial words read from ``scene.viewpoint`` (see ``sim/success.py``). Physics is simulated
    only (``physics_hz`` substeps per control step), never wall-clock.

    ## Action Space
    ``Box(-1, 1, (7,), float32)``: delta ee xyz (m), delta rpy (rad; only yaw is applied, the
    gripper stays vertical), gripper command (0 open, 1 closed). Every action is clipped to the
    :class:`SafetyEnvelope` (0.03 m and 0.15 rad per step, workspace box); ``info["action_sent"]``
    holds what was applied. A zero translation holds the arm still.

    ## Observation Space
    ``Dict``: "state" float32 (8,) (ee xyz, ee rpy relative to pointing down, gripper opening,
    gripper command); with ``images=True`` also "rgb" uint8 (H, W, 3), "depth" float32 (H, W)
    metres, "segmentation" int32 (H, W) (index into ``scene.objects``, -1 background/robot).
    The :class:`CameraModel` is ``env.camera`` (constant per env; kept out of ``info`` so infos
    stay comparable). ``info`` has "success", "success_reason", "object_positions" (id -> (3,)),
    "action_sent", "task", "scene", "segmentation_labels" (segmentation value -> object id), "steps".

    ## Rewards
    Sparse: 1.0 on the step the task succeeds, else 0.0.

    ## Starting State
    ``reset(seed=, options={"scene": SceneSpec, "task": TaskSpec})``; without a scene one is
    sampled from ``self.np_random`` (``n_objects`` objects) with a feasible task; a scene with no
    "task" key gets a sampled feasible task; ``"task": None`` means no task (never succeeds, e.g.
    the person asked for something absent). The arm starts at home with the gripper open.

    ## Episode End
    Terminated when the task succeeds; truncated after ``max_episode_steps`` control steps.

    ## Arguments
    image_size: square camera resolution (pixels); camera: full camera config (overrides size);
    images: render camera images into the observation (False = state only, fast);
    max_episode_steps: control steps before truncation; n_objects: objects in sampled scenes;
    task_kind: restrict sampled tasks to one kind (e.g. "place_in"); gui: open a window;
    render_mode: "rgb_array" makes :meth:`render` return the camera image.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(
        self,
        image_size: int = 96,
        *,
        camera: Optional[CameraConfig] = None,
        images: bool = True,
        max_episode_steps: int = 200,
        n_objects: int = 4,
        task_kind: Optional[str] = None,
        gui: bool = False,
        render_mode: Optional[str] = None,
        control_hz: int = 10,
        safety: Optional[SafetyEnvelope] = None,
        detail_size: Optional[int] = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode
        self.images = images
        self.max_episode_steps = max_episode_steps
        self.n_objects = n_objects
        self.task_kind = task_kind
        cam = camera or CameraConfig(width=image_size, height=image_size)
        self.arm = PyBulletArm(cam, gui=gui, render=images, control_hz=control_hz, safety=safety, detail_size=detail_size)
        self.arm.connect()
        self.action_space = spaces.Box(-1.0, 1.0, (ACTION_DIM,), np.float32)
        # State bounds: ee xyz within reach (m), rpy in [-pi, pi], gripper values in 0..1.
        state_low = np.array([-1.0, -1.0, -0.5, -np.pi, -np.pi, -np.pi, 0.0, 0.0], np.float32)
        state_high = np.array([1.5, 1.0, 1.5, np.pi, np.pi, np.pi, 1.0, 1.0], np.float32)
        obs_spaces: dict[str, spaces.Space] = {"state": spaces.Box(state_low, state_high, (STATE_DIM,), np.float32)}
        if images:
            h, w = cam.height, cam.width
            obs_spaces["rgb"] = spaces.Box(0, 255, (h, w, 3), np.uint8)
            obs_spaces["depth"] = spaces.Box(0.0, np.float32(cam.far), (h, w), np.float32)
            obs_spaces["segmentation"] = spaces.Box(-1, MAX_OBJECTS - 1, (h, w), np.int32)
        self.observation_space = spaces.Dict(obs_spaces)
        self.scene: Optional[SceneSpec] = None
        self.task: Optional[TaskSpec] = None
        self._initial: dict[str, np.ndarray] = {}
        self._steps = 0
        self._last_report = SuccessReport(False, "not started")

    # ---------------------------------------------------------------- gymnasium API
    def reset(self, *, seed: Optional[int] = None, options: Optional[dict[str, Any]] = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        options = options or {}
        scene, task = options.get("scene"), options.get("task")
        if scene is None:
            scene, task = sample_scene_and_task(self.np_random, self.task_kind, self.n_objects)
        elif "task" not in options:
            task = sample_task(self.np_random, scene, self.task_kind)
            if task is None:
                raise ValueError("no feasible task for the given scene; pass options['task']")
        if len(scene.objects) > MAX_OBJECTS:
            raise ValueError(f"at most {MAX_OBJECTS} objects per scene, got {len(scene.objects)}")
        for oid in (task.pick, task.place) if task is not None else ():
            if oid is not None:
                scene.get(oid)  # raises KeyError on an unknown id
        self.scene, self.task = scene, task
        self.arm.load_scene(scene)
        self._initial = {k: p.position.copy() for k, p in self.arm.object_poses().items()}
        self._steps = 0
        self._last_report = self._check()
        return self._observation(), self._info(np.zeros(ACTION_DIM, np.float32))

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        if self.scene is None:
            raise RuntimeError("call reset() before step()")
        sent = self.arm.send_action(np.asarray(action, dtype=np.float32))
        self._steps += 1
        self._last_report = self._check()
        terminated = self._last_report.success
        truncated = not terminated and self._steps >= self.max_episode_steps
        return self._observation(), float(terminated), terminated, truncated, self._info(sent)

    def render(self) -> Optional[np.ndarray]:
        if self.render_mode != "rgb_array":
            return None
        return self.arm.get_observation(render=True)["rgb"]

    def close(self) -> None:
        self.arm.disconnect()

    @property
    def camera(self) -> CameraModel:
        """Intrinsics and pose of the front camera (OpenCV convention)."""
        return self.arm.camera

    # ---------------------------------------------------------------- privileged helpers
    def object_poses(self) -> dict[str, ObjectPose]:
        """True object poses (privileged; for the scripted expert and success checks)."""
        return self.arm.object_poses()

    def world_state(self) -> WorldState:
        """Physics facts the success checks read."""
        c = self.arm.client
        poses = self.arm.object_poses()
        speeds = {k: float(np.linalg.norm(c.getBaseVelocity(b)[0])) for k, b in self.arm.bodies.body_of.items()}
        touching = {k: self.arm.robot_contacts(k) > 0 for k in poses}
        bottoms = {k: lowest_z(self.scene.get(k), p.position, p.orientation) for k, p in poses.items()} \
            if self.scene is not None else {}
        return WorldState({k: p.position for k, p in poses.items()}, self._initial, speeds, touching, bottoms)

    def _check(self) -> SuccessReport:
        assert self.scene is not None
        if self.task is None:
            return SuccessReport(False, "no task: nothing can succeed")
        return check_success(self.task, self.scene, self.world_state())

    def _observation(self) -> dict[str, np.ndarray]:
        obs = self.arm.get_observation()
        return {k: obs[k] for k in self.observation_space.spaces}

    def _info(self, sent: np.ndarray) -> dict[str, Any]:
        return {
            "success": self._last_report.success,
            "success_reason": self._last_report.reason,
            "object_positions": {k: p.position.copy() for k, p in self.arm.object_poses().items()},
            "action_sent": sent,
            "task": self.task,
            "scene": self.scene,
            "segmentation_labels": self.arm.segmentation_labels,
            "steps": self._steps,
        }
