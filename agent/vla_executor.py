"""VLAExecutor: the learned PaliGemma VLA policy behind the agent's Executor protocol.

Unlike ``ExpertExecutor`` it is NOT privileged: it sees only the camera image and the arm's
proprio state, plus the words. The agent hands it ``target.instruction``, a rewrite that names
only the chosen target ("put the red cube on the left in the green bowl"), so by default the
raw session dialogue is not added to the prompt (``use_dialogue=True`` folds question/answer
pairs in, the form the policy also saw in training).

With ``steer`` (default) the executor also hands the runtime the boxes of the grounded target
(and place) in the policy's camera frame (their measured 3-D boxes projected, the format the
policy learned: :func:`steering_box`): every chain of thought the policy writes gets its
TARGET/PLACE box replaced by the agent's grounding before the actions are read (ECoT's
reasoning intervention). With ``snap_iou`` the box is first snapped to the policy's own listed
box of the same object when the two overlap by at least that IoU; by default it is written as
measured: in the agent's loop on the eval's 90 held-out seeds the measured boxes put 29/30 into
a bowl against 26/30 snapped (stacks 25/30 both): the policy's
listed box of a small object is often 1-2 px off at 96 px, which is a 1-2 cm miss at the goal.
``PolicyOutput.target`` stays what the policy itself wrote, so the agent's self-check still sees
the policy's own opinion.

A placement the demonstrations never showed ("to the left of the cylinder") is composed from the
learned "put it in a bowl": the policy is told "in" and its PLACE box is steered to a stand-in
bowl on the table at the spot (``agent/relation_spot.py``).

A motion ends when the policy writes "done", stands still for ``still_chunks`` chunks, runs out of
``max_steps``, or (proprio) the fingers close on nothing after having held something: it slipped
out; or (``release_ends``) the hand opens after having held something: it set the object down.
With the hand open at the end it then rises straight up (``step_back``), so no finger stays
against what it set down, and goes home (``step_back_home``), so the agent's look afterwards
(``agent/outcome_check.py``) sees the table without the arm over it.

A placement whose object stands closer to its destination than any demonstration set two objects
(:func:`too_close`: what a near miss leaves for the agent's retry) runs in two stages
(``stage_close``): "pick up the X", then, holding it, the placement. Asked for the placement
from there, the policy takes the start for the end and writes "release" before lifting anything.

A put-back (``ActTarget.return_to``: "no, the other one" with the wrong object in the hand) is
not something the policy was shown; it runs :class:`agent.put_back_motion.PutBackMotion`, which
reads only the arm's proprio state and the perceived point (or the pose the hand closed at, when
it closed near that point), and ends at the arm's home pose (where the first motion began).

The demonstrations never pick an object out of a bowl or off another object, and the policy
asked to knocked the bowl over. With ``fetch_set_down`` (default) such an object is fetched by
the same proprio-only follower, straight down onto its perceived centre and back up: for a
put-back of an object already set down elsewhere (found by perception below the open hand,
:func:`set_down_elsewhere`), and as the first stage of a new placement of an object that rests
in or on another (:func:`resting_on`), the policy's placement following with it in the hand.
Without it, the put-back raises ``TargetUnreachable`` before anything moves. A motion that
starts with an empty hand away from home first goes home the same proprio-only way
(:func:`homing_motion`): the policy's demonstrations all start there.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import numpy as np

from common.proprio import Proprio, holds_something

from agent.context import TargetUnreachable
from agent.put_back_motion import CLEAR_MARGIN, PutBackMotion
from agent.relation_spot import composed_instruction, composes, spot_of
from policy.types import PolicyOutput


#: Steering boxes are written as measured (None), not snapped to the policy's listed box (module doc).
DEFAULT_SNAP_IOU: Optional[float] = None


class VLAExecutor:
    """reset(target) / select_action(obs, instruction, dialogue) -> chunk / done.

    Args:
        runtime: a ``policy.inference.runtime.VLARuntime`` (see :meth:`from_checkpoint`), or an
            ``agent.remote_runtime.RemoteRuntime`` asking a ``main.py serve`` server (a chunk it
            marks ``holding``, the server being down, is sent as it is and ends nothing).
        max_steps: actions after which the motion counts as finished (the agent verifies success).
        still_chunks: consecutive near-still chunks (< ``still_m`` of motion) that also end it.
    """

    privileged = False

    def __init__(self, runtime: Any, *, max_steps: int = 200, use_dialogue: bool = False,
                 still_chunks: int = 3, still_m: float = 0.004, steer: bool = True,
                 snap_iou: Optional[float] = DEFAULT_SNAP_IOU, home_m: Optional[float] = 0.05,
                 step_back: bool = True, stage_close: bool = True, put_back: bool = True,
                 step_back_home: bool = True, release_ends: bool = True,
                 clear_margin: Optional[float] = CLEAR_MARGIN,
                 fetch_set_down: bool = True, free_spot: bool = True) -> None:
        self.runtime = runtime
        #: The agent may overrule the policy's TARGET with its grounding (self-check).
        self.steerable = steer
        #: Steering boxes snap to the policy's own listed box of the object (None: written as given).
        self.snap_iou = snap_iou
        self._target: Any = None
        self.max_steps = max_steps
        self.use_dialogue = use_dialogue
        self.still_chunks = still_chunks
        self.still_m = still_m
        self._steps = 0
        self._still = 0
        self._finished = False
        self._instruction: Optional[str] = None
        self._put_back: Optional[PutBackMotion] = None
        self._put_back_of: Any = None  # the perceived object a put-back returns
        self._spot: Any = None  # stand-in bowl of a composed placement (agent/relation_spot.py)
        self._grasped_at: Optional[np.ndarray] = None  # grasp point when the hand closed (last motion)
        self._let_go_at: Optional[np.ndarray] = None  # grasp point when the last motion let go
        self._checked_hand = False
        #: An empty hand farther than this (m) from home goes home before the policy runs (None: never).
        self.home_m = home_m
        #: A put-back runs the proprio-only PutBackMotion; False hands its words to the policy.
        self.put_back = put_back
        self._homing: Any = None  # None: not decided yet this motion; False: not needed
        #: After the policy's motion ends with the hand open, rise clear before the agent looks.
        self.step_back = step_back
        self.step_back_home = step_back_home
        self.release_ends = release_ends
        self.clear_margin = clear_margin
        self._stepping_back: Any = None  # None: the policy's motion is still on; False: no need
        #: A placement whose object stands closer to its destination than any demonstration set
        #: them is done in two stages: "pick up the X", then, holding it, the placement.
        self.stage_close = stage_close
        self._then: Any = None  # (target, instruction, spot) of the placement stage still to come
        # The finger opening while the hand last held something this motion (None: it has not held
        # anything; after holding, an empty close means dropped, an opening means let go).
        self._held_opening: Optional[float] = None
        self.fetch_set_down = fetch_set_down  # fetch what rests in a bowl or on an object (module doc)
        self.free_spot = free_spot  # "in" a bowl with something in it: aim at a free spot
        self._fetch: Optional[PutBackMotion] = None  # the fetch stage of a new placement
        # Grasp point when the first motion began (the arm's home pose); a put-back ends there.
        self._home: Optional[np.ndarray] = None

    @classmethod
    def from_checkpoint(cls, folder: str | Path, **kwargs: Any) -> "VLAExecutor":
        from policy.model.checkpoint import load_checkpoint

        return cls.from_policy(load_checkpoint(folder), **kwargs)

    @classmethod
    def from_policy(cls, policy: Any, *, replan_every: int = 4, execute_steps: Optional[int] = None,
                    rules: Any = None, **kwargs: Any) -> "VLAExecutor":
        """An executor with its own runtime (queue, reasoning cache) over an already loaded policy.

        ``rules`` is the runtime's ``policy.inference.rules.RuleSet`` (default: all). Steered (the default),
        the policy's TARGET/PLACE boxes are the agent's own grounding, so the namer and holding a
        lost box have nothing to choose (``RuleSet.steered``): both run only when not steered."""
        from policy.inference.rules import RuleSet
        from policy.inference.runtime import RuntimeSettings, VLARuntime

        rules = RuleSet.all() if rules is None else rules
        if kwargs.get("steer", True):
            rules = rules.steered()
        runtime = VLARuntime(policy, RuntimeSettings(replan_every=replan_every, execute_steps=execute_steps,
                                                     rules=rules))
        return cls(runtime, **kwargs)

    def reset(self, target: Any) -> None:
        """New motion for an ``agent.context.ActTarget`` (its instruction becomes the prompt)."""
        self.runtime.reset()
        viewpoint = getattr(target, "viewpoint", None)
        if viewpoint is not None:
            # "on the left" in the instruction is the scene's viewpoint's left (box_pointer.on_named_side).
            self.runtime.settings = replace(self.runtime.settings, rules=self.runtime.settings.rules.seeing_from(viewpoint))
        self._target = target if self.steerable else None
        # Steered, the demonstrations' words (the PLACE box says which bowl); else the full rewrite.
        self._instruction = (getattr(target, "policy_instruction", None) if self.steerable else None) \
            or getattr(target, "instruction", None)
        # The undo of a wrong pick is not in the policy's demonstrations: a proprio-only motion.
        return_to = getattr(target, "return_to", None)
        grasped_at = self._grasped_at if return_to is not None and self._grasped_near(return_to) else None
        self._put_back = (PutBackMotion(return_to, home=self._home, grasped_at=grasped_at)
                          if return_to is not None and self.put_back else None)
        if return_to is None:
            self._grasped_at = self._let_go_at = None  # a new motion: its own grasp
        # A placement the demos never showed ("left of"): the learned "in" skill, aimed at the spot.
        self._spot = spot_of(target, in_bowl=self.free_spot) if self.steerable else None
        if composes(target):
            self._instruction = composed_instruction(target)
        self._put_back_of = getattr(target, "pick", None)
        self._checked_hand = False
        self._homing = None
        self._stepping_back = None
        self._held_opening = None
        self._then = None
        self._fetch = None
        if self._put_back is None and self.steerable and self.fetch_set_down and resting_on(target) is not None:
            self._then = (target, self._instruction, self._spot)
            self._fetch = PutBackMotion(None, fetch_from=np.asarray(target.pick.position, dtype=np.float64))
            self._target = None
        elif self._put_back is None and self.steerable and self.stage_close and too_close(target):
            self._then = (target, self._instruction, self._spot)
            self._target = replace(target, place=None, relation=None, place2=None, region=None)
            self._instruction = f"pick up the {target.pick.color} {target.pick.shape}"
            self._spot = None
        if self._put_back is not None:
            self._target = None  # a put-back is not the policy's: nothing to steer
        self._steps = 0
        self._still = 0
        self._finished = False

    @property
    def done(self) -> bool:
        return self._finished

    def select_action(self, obs: dict[str, Any], instruction: str, dialogue: list[str]) -> PolicyOutput:
        """Next chunk (execute_steps x 7) from the policy; empty once finished."""
        if self._finished:
            return PolicyOutput(actions=np.zeros((0, 7), dtype=np.float32))
        if self._home is None:  # the first motion starts where every demonstration starts
            self._home = np.asarray(obs["state"][:3], dtype=np.float64).copy()
            if self._put_back is not None:
                self._put_back.home = self._home
        if self._put_back is not None:
            return self._put_back_chunk(obs, instruction)
        if self._fetch is not None:  # first stage: take it out of the bowl, then the placement
            state = np.asarray(obs["state"])
            if not self._fetch.done:
                return PolicyOutput(actions=self._fetch.next_actions(state), raw_text="[fetch]", scripted=True)
            self._fetch, self._homing = None, False
            if not holds_something(state):  # closed on nothing: the agent's look says what happened
                self._then, self._finished = None, True
                return PolicyOutput(actions=np.zeros((0, 7), dtype=np.float32))
            self._next_stage(state)
        if self._homing is None:  # first call of a motion: start from home, as the demonstrations do
            self._homing = (self.home_m is not None and homing_motion(np.asarray(obs["state"]), self._home,
                                                                      self.home_m)) or False
        if self._homing is not False and not self._homing.done:
            return PolicyOutput(actions=self._homing.next_actions(np.asarray(obs["state"])), raw_text="[home]", scripted=True)
        if self._stepping_back is not None and self._then is not None:
            self._next_stage(np.asarray(obs["state"]))
        if self._stepping_back is not None:
            return self._step_back_chunk(np.asarray(obs["state"]))
        output, over = self._policy_chunk(obs, self._instruction or instruction,
                                          pair_dialogue(dialogue) if self.use_dialogue else [])
        if over:  # what follows is decided on the next call, from the state after this chunk
            self._stepping_back = True if self.step_back else False
            self._finished = not self.step_back and self._then is None
            if len(output.actions) == 0:  # nothing to send now: go on at once
                return self.select_action(obs, instruction, dialogue)
        return output

    def _next_stage(self, state: np.ndarray) -> None:
        """The pick stage of a staged placement is over: holding the object, start the placement
        (a fresh prompt, steered to where it goes); with an empty hand the motion ends there."""
        target, instruction, spot = self._then
        self._then = None
        if not holds_something(state):
            return
        self.runtime.reset()
        self._target, self._instruction, self._spot = target, instruction, spot
        self._stepping_back = None
        self._steps = self._still = 0

    def _step_back_chunk(self, state: np.ndarray) -> PolicyOutput:
        """The policy's motion is over. With the hand open (it let go) rise straight up, clear of
        what it set down, so a finger does not stay against it and the camera sees it; holding
        something (a pick) it ends where it is."""
        if self._stepping_back is True:
            home = self._home if self.step_back_home else None
            clear = None if self._held_opening is None or self.clear_margin is None \
                else min(1.0, self._held_opening + self.clear_margin)
            self._stepping_back = (PutBackMotion(tuple(float(v) for v in state[:3]), home=home, clear_opening=clear)
                                   if not holds_something(state) else False)
            self._let_go_at = None if holds_something(state) else state[:3].astype(np.float64)
        if self._stepping_back is False or self._stepping_back.done:
            self._finished = True
            return PolicyOutput(actions=np.zeros((0, 7), dtype=np.float32))
        return PolicyOutput(actions=self._stepping_back.next_actions(state), raw_text="[step back]", scripted=True)

    def _policy_chunk(self, obs: dict[str, Any], instruction: str, turns: list[tuple[str, str]]) -> tuple[PolicyOutput, bool]:
        """One chunk from the policy, and whether the motion is over (out of steps, still, or done)."""
        if self._target is not None:  # first call of a motion: steer with the grounded boxes
            self._steer(self._target, obs)
            self._target = None
        hand = Proprio.from_array(obs["state"])
        if hand.holding:
            self._held_opening = hand.opening
        elif self._held_opening is not None and hand.shut:
            # It held something and the fingers have now closed on nothing: it slipped out. The
            # motion is over; the agent's look after it sees where the object went.
            return PolicyOutput(actions=np.zeros((0, 7), dtype=np.float32), raw_text="[dropped]", scripted=True), True
        elif self._held_opening is not None and not hand.closed and self.release_ends:
            # It held something and has let go: the put-down is over. Asked on, the policy starts
            # its reach again from there and knocks over what it has just set down.
            return PolicyOutput(actions=np.zeros((0, 7), dtype=np.float32), raw_text="[released]", scripted=True), True
        chunk = self.runtime.predict_chunk(obs, instruction, turns)
        notice = getattr(chunk, "notice", None)
        if getattr(chunk, "holding", False):  # a remote policy server is down (agent/remote_runtime.py)
            self._finished = bool(chunk.gave_up)  # waited long enough: the motion ends where it is
            return PolicyOutput(actions=chunk.actions, raw_text="[hold: policy server down]", scripted=True,
                                notice=notice), False
        actions = chunk.actions[: self.runtime.execute_steps]
        self._note_grasp(np.asarray(obs["state"]), actions)
        self._steps += len(actions)
        moved = float(np.linalg.norm(actions[:, :3].sum(axis=0)))
        self._still = self._still + 1 if moved < self.still_m else 0
        phase = chunk.reasoning.move.split(",")[0].strip()
        over = self._steps >= self.max_steps or self._still >= self.still_chunks or phase == "done"
        return PolicyOutput(actions=actions, reasoning=chunk.reasoning, raw_text=chunk.reasoning_text,
                            target=chunk.written_target, confidence=chunk.confidence, notice=notice), over

    def _note_grasp(self, state: np.ndarray, actions: np.ndarray) -> None:
        """Remember where the grasp point was when the hand first closed this motion: the state
        plus the deltas sent before the first closing action (what a put-back goes back to)."""
        if self._grasped_at is not None or Proprio.from_array(state).closed:
            return
        closing = np.nonzero(actions[:, 6] > 0.5)[0]
        if len(closing):
            self._grasped_at = state[:3].astype(np.float64) + actions[: int(closing[0]), :3].sum(axis=0)

    def _grasped_near(self, return_to: Any, within_m: float = 0.04) -> bool:
        """The remembered grasp was on the object being put back (within ``within_m`` of where it stood)."""
        return self._grasped_at is not None and float(
            np.linalg.norm(self._grasped_at[:2] - np.asarray(return_to, dtype=np.float64)[:2])) <= within_m

    def _put_back_chunk(self, obs: dict[str, Any], instruction: str) -> PolicyOutput:
        """The undo, back where it was from the hand (see module docstring)."""
        assert self._put_back is not None
        if not self._checked_hand:  # first call: in the hand, or already set down somewhere?
            self._checked_hand = True
            elsewhere = set_down_elsewhere(obs, self._put_back_of, self._put_back.return_to, let_go_at=self._let_go_at)
            if elsewhere is not None and self.fetch_set_down:
                self._put_back = PutBackMotion(self._put_back.return_to, home=self._home,
                                               fetch_from=np.asarray(elsewhere.position, dtype=np.float64))
            elif elsewhere is not None:
                raise TargetUnreachable(f"I already set the {self._put_back_of.color} {self._put_back_of.shape} "
                                        "down elsewhere, and I have not learned to pick things up from there")
        actions = self._put_back.next_actions(np.asarray(obs["state"]))
        self._finished = self._put_back.done
        return PolicyOutput(actions=actions, raw_text=f"[put back] {self._instruction or instruction}",
                            scripted=True)

    def _steer(self, target: Any, obs: dict[str, Any]) -> None:
        pick = getattr(target, "pick", None)
        if pick is None or getattr(target, "return_to", None) is not None:
            return
        camera = getattr(getattr(self.runtime, "config", None), "geometry_camera", None)
        box = steering_box(pick, obs, camera)
        if box is None:
            return
        place = self._spot or getattr(target, "place", None)
        # Snap to the policy's own listed box of the same object (min_iou is where the two
        # still mean the same object); a spot on the table is no listed object.
        self.runtime.steer(box, steering_box(place, obs, camera) if place is not None else None, snap_iou=self.snap_iou,
                           snap_place=self._spot is None)


#: The demonstrations' scenes keep at least this gap (m) between footprints (sim.scene.sample_scene).
DEMO_MIN_GAP_M = 0.03


def too_close(target: Any) -> bool:
    """A placement (not a put-back) whose object stands closer to its destination than the
    demonstrations ever set two objects: footprints (perceived extents) less than
    ``DEMO_MIN_GAP_M`` apart. After a near miss it does; the policy then mistakes the start for
    the end (it writes "release" before it has lifted anything)."""
    if getattr(target, "return_to", None) is not None:
        return False
    # A composed placement's destination is its stand-in bowl at the spot, not the reference.
    pick, place = getattr(target, "pick", None), spot_of(target) or getattr(target, "place", None)
    if pick is None or place is None:
        return False
    if not pick.extent or not place.extent:
        return False
    gap = float(np.linalg.norm(np.asarray(pick.position[:2]) - np.asarray(place.position[:2]))) \
        - 0.5 * (float(pick.extent) + float(place.extent))
    return gap < DEMO_MIN_GAP_M


def resting_on(target: Any) -> Optional[Any]:
    """The perceived object the pick rests in or on (its centre within that one's footprint:
    in a bowl, on a cube), among ``target.others``; None when it stands on the table, when the
    hand already holds it, or for a put-back."""
    pick = getattr(target, "pick", None)
    if pick is None or getattr(target, "holding", False) or getattr(target, "return_to", None) is not None:
        return None
    xy = np.asarray(pick.position[:2], dtype=np.float64)
    for other in getattr(target, "others", ()):
        if other.index == pick.index or other.position[2] >= pick.position[2]:
            continue
        radius = 0.5 * float(other.extent) if other.extent else 0.02
        if float(np.linalg.norm(np.asarray(other.position[:2]) - xy)) < radius:
            return other
    return None


def steering_box(obj: Any, obs: dict[str, Any], policy_camera: Any = None) -> Optional[tuple[float, float, float, float]]:
    """The box (fractions of the image) the policy is steered with for a perceived object.

    The object's measured 3-D box projected into the image (``perception.projected_box``), the
    box format the policy's demonstrations use: through ``policy_camera`` (the calibration its
    demos were recorded with, ``PolicyConfig.geometry_camera``: their exact box convention) when
    given, else the camera model in ``obs``; without either, the pixel box of what it shows,
    which is smaller for round and turned objects. None without an image size.
    """
    from agent.self_check import image_size, normalised_box
    from perception.projected_box import projected_box

    camera = policy_camera if policy_camera is not None else obs.get("camera")
    if camera is not None:
        box = projected_box(obj, camera)
        if box is not None:
            return box
    size = image_size(obs)
    return normalised_box(obj, size) if size is not None else None


def homing_motion(state: np.ndarray, home: Optional[np.ndarray], home_m: float) -> Optional[PutBackMotion]:
    """Open, rise and go home, when the hand is empty and farther than ``home_m`` from ``home``
    (after a put-back that could not be done, say); None when holding something or already there."""
    if home is None or holds_something(state) or float(np.linalg.norm(state[:3] - home)) <= home_m:
        return None
    # A put-back to where the hand is, holding nothing, is exactly: open, rise, go home.
    return PutBackMotion(tuple(float(v) for v in state[:3]), home=home)


def set_down_elsewhere(obs: dict[str, Any], obj: Any, return_to: np.ndarray, *, home_m: float = 0.03,
                       near_hand_m: float = 0.12, let_go_at: Optional[np.ndarray] = None) -> Optional[Any]:
    """The perceived object a put-back would have to fetch first: the object of ``obj``'s colour nearest
    below where the hand let go (``let_go_at``; else the open hand: the step back has since gone
    home), within ``near_hand_m``, when the hand holds nothing and nothing of that colour stands
    within ``home_m`` of ``return_to``. Colour only: a cube sitting in a bowl is often read as
    another shape. None otherwise (or without a camera)."""
    from perception.proposals import perceive

    state = np.asarray(obs["state"])
    if obj is None or Proprio.from_array(state).closed or "camera" not in obs or "depth" not in obs:
        return None
    seen = perceive(obs).objects
    alike = [o for o in seen if o.color == obj.color]
    xy = np.asarray(return_to[:2], dtype=np.float64)
    if not alike or any(float(np.linalg.norm(np.asarray(o.position[:2]) - xy)) <= home_m for o in alike):
        return None
    hand = (state if let_go_at is None else let_go_at)[:2].astype(np.float64)
    nearest = min(alike, key=lambda o: float(np.linalg.norm(np.asarray(o.position[:2]) - hand)))
    return nearest if float(np.linalg.norm(np.asarray(nearest.position[:2]) - hand)) <= near_hand_m else None


def pair_dialogue(dialogue: list[str]) -> list[tuple[str, str]]:
    """Question/answer pairs from a flat list: a line ending in '?' followed by the reply."""
    pairs = []
    for question, answer in zip(dialogue, dialogue[1:]):
        if question.strip().endswith("?") and not answer.strip().endswith("?"):
            pairs.append((question, answer))
    return pairs
