"""Executors: what moves the arm once the agent has chosen a target (see ``agent.context.Executor``).

:class:`ExpertExecutor` is PRIVILEGED and SIM-ONLY: it wraps the scripted expert of
``sim/expert.py``, which reads the simulator's true object poses. It maps the agent's chosen
(perceived) target to the true scene object it is (the perception's sim label, else the nearest
true object centre) and carries that out faithfully, so a wrong choice by the agent shows up as
a wrong result. A learned VLA executor plugs into the same ``reset / select_action / done``.
Like the learned one's step back, a motion that ends with the hand open then rises and goes
home (``home_after``), so the agent's look afterwards sees the table without the arm over it.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from perception.types import PerceivedObject
from policy.types import PolicyOutput, ReasonedObject, Reasoning

from sim.tasks import TaskSpec

from agent.context import ActTarget, TargetUnreachable

#: A perceived object without a sim label is matched to a true object within this distance (m).
MATCH_RADIUS_M = 0.05


class PhantomTargetError(TargetUnreachable):
    """The agent chose something that is not really on the table (a perception phantom)."""


def true_object_id(obj: PerceivedObject, truth: dict[str, np.ndarray]) -> Optional[str]:
    """The true scene object a perceived one is: its sim label, else nearest centre within radius."""
    if obj.sim_id is not None and obj.sim_id in truth:
        return obj.sim_id
    if not truth:
        return None
    xy = np.asarray(obj.position[:2], dtype=np.float64)
    oid, pos = min(truth.items(), key=lambda kv: float(np.linalg.norm(kv[1][:2] - xy)))
    return oid if float(np.linalg.norm(pos[:2] - xy)) <= MATCH_RADIUS_M else None


def target_task(target: ActTarget, truth: dict[str, np.ndarray]) -> TaskSpec:
    """The sim task that carries out ``target`` on the true objects it is (privileged).

    Raises :class:`PhantomTargetError` when one of its objects is not really on the table."""
    ids: dict[str, Optional[str]] = {}
    for key in ("pick", "place", "place2"):
        obj = getattr(target, key)
        ids[key] = true_object_id(obj, truth) if obj is not None else None
        if obj is not None and ids[key] is None:
            raise PhantomTargetError(f"the {obj.color} {obj.shape} I saw is not really there")
    if target.relation == "region":
        return TaskSpec(pick=str(ids["pick"]), relation="region", region=target.region)  # type: ignore[arg-type]
    relation = target.relation or "in"
    return TaskSpec(pick=str(ids["pick"]), place=ids["place"], relation=relation,  # type: ignore[arg-type]
                    place2=ids["place2"] if relation == "between" else None)


class ExpertExecutor:
    """Scripted expert behind the Executor protocol (privileged, sim-only).

    Args:
        env: a ``sim.tabletop_env.TabletopEnv`` after ``reset`` (its ``scene`` and
            ``object_poses()`` are the privileged truth the expert plans from).
        chunk_size: actions per ``select_action`` call (the expert's chunk length).
    """

    privileged = True

    def __init__(self, env: Any, chunk_size: int = 4, home_after: bool = True) -> None:
        self.env = env
        self.chunk_size = chunk_size
        self.home_after = home_after
        self._home: Optional[np.ndarray] = None  # where the first motion started
        self._homing: Any = None  # None: the expert's motion is still on; False: no need
        self._expert: Any = None
        self._target: Optional[ActTarget] = None
        # True centre (3,) of each object when this executor first went for it: where a
        # put-back returns it (privileged, like the rest of the expert).
        self._origins: dict[str, np.ndarray] = {}

    def reset(self, target: ActTarget) -> None:
        from sim.expert import ScriptedExpert

        truth = {k: p.position for k, p in self.env.object_poses().items()}
        task = target_task(target, truth)
        pick = task.pick
        return_to = None
        if target.return_to is not None:
            return_to = self._origins.get(pick, np.asarray(target.return_to, dtype=np.float64))
        else:
            self._origins[pick] = np.asarray(truth[pick], dtype=np.float64).copy()
        self._expert = ScriptedExpert(task, self.env.scene, chunk_size=self.chunk_size, return_to=return_to,
                                      take_over=bool(getattr(target, "holding", False)) and return_to is None)
        self._target = target
        self._homing = None

    def select_action(self, obs: dict[str, Any], instruction: str, dialogue: list[str]) -> PolicyOutput:
        """Next (chunk, 7) actions from the true poses; an empty chunk once the task is done."""
        if self._expert is None or self._target is None:
            raise RuntimeError("ExpertExecutor.reset(target) must be called before select_action")
        if self._home is None:
            self._home = np.asarray(obs["state"][:3], dtype=np.float64).copy()
        if self._expert.done:
            return self._going_home(obs)
        poses = self.env.object_poses()
        self._expert.begin(obs["state"], poses)  # a put-back's first phase depends on the grip
        phase = self._expert.phase
        actions = self._expert.next_actions(obs["state"], poses)
        return PolicyOutput(actions=actions, reasoning=self._reasoning(obs, instruction, phase),
                            raw_text=f"[expert] {instruction}: {phase}")

    def _going_home(self, obs: dict[str, Any]) -> PolicyOutput:
        from agent.vla_executor import homing_motion

        if self._homing is None:
            self._homing = (self.home_after and homing_motion(np.asarray(obs["state"]), self._home, 0.0)) or False
        if self._homing is False or self._homing.done:
            return PolicyOutput(actions=np.zeros((0, 7), dtype=np.float32))
        return PolicyOutput(actions=self._homing.next_actions(np.asarray(obs["state"])), raw_text="[expert] home",
                            scripted=True)

    @property
    def done(self) -> bool:
        """The expert's motion is over and, with ``home_after``, so is the way home."""
        if self._expert is None or not self._expert.done:
            return False
        return not self.home_after or self._homing is False or (self._homing is not None and self._homing.done)

    def _reasoning(self, obs: dict[str, Any], instruction: str, phase: str) -> Reasoning:
        """The expert's plan in the VLA's chain-of-thought fields (boxes normalised 0..1)."""
        assert self._target is not None and self._expert is not None
        camera = obs.get("camera")
        w, h = (camera.width, camera.height) if camera is not None else (1, 1)

        def named(o: PerceivedObject) -> ReasonedObject:
            x0, y0, x1, y1 = o.box
            return ReasonedObject(name=o.describe(), box=(x0 / w, y0 / h, x1 / w, y1 / h))

        visible = [named(o) for o in (self._target.pick, self._target.place, self._target.place2) if o is not None]
        plan = [p for p in self._expert.PHASES if p != "done"]
        if not self._target.places and self._target.return_to is None:
            plan = plan[: plan.index("lift") + 1]
        return Reasoning(task=instruction, plan=plan, visible=visible, target=visible[0], move=phase)
