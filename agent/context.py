"""Run-time dependencies of the agent graph (handed in per call; never checkpointed).

A session killed mid-dialogue is rebuilt from the SQLite state plus a *fresh* context: the
arm, models and transcript writer are live objects that cannot (and need not) be persisted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol, Sequence

from perception.types import GroundingResult, PerceivedObject, SceneObservation
from policy.types import PolicyOutput
from sim.arm import Arm

from agent.self_check import SelfCheckSettings
from agent.transcript import TranscriptWriter


@dataclass(frozen=True)
class ActTarget:
    """What the agent decided to act on, resolved to perceived objects.

    ``instruction`` is the request rewritten so it names only this target (a language policy
    gets an unambiguous command even when the person's words were ambiguous). With
    ``return_to`` the motion PUTS ``pick`` BACK there (its centre before the robot took it,
    metres, base frame) instead of picking it: the undo of a wrong pick ("no, the other one").
    """

    pick: PerceivedObject
    place: Optional[PerceivedObject]
    relation: Optional[str]
    instruction: str
    return_to: Optional[tuple[float, float, float]] = None
    #: Whose left/right the instruction's words use (sim/scene.py ``viewpoint``).
    viewpoint: str = "user"
    #: The same request in the words the policy's demonstrations use: the place named by colour
    #: and shape only (they never say which of two bowls in the sentence; the steered PLACE box
    #: says it). None: ``instruction``.
    policy_instruction: Optional[str] = None
    #: The hand already holds ``pick`` when the motion starts (a new destination said while it
    #: carried it): the executor carries it on from there instead of grasping it again.
    holding: bool = False
    #: The second reference of ``relation == "between"``.
    place2: Optional[PerceivedObject] = None
    #: The table region of ``relation == "region"`` (sim.relations.REGIONS; ``place`` is None).
    region: Optional[str] = None
    #: Everything perceived on the table with it: a composed placement's spot is chosen clear
    #: of them (``agent/relation_spot.py``).
    others: tuple[PerceivedObject, ...] = ()

    @property
    def places(self) -> bool:
        """The motion ends with the object set down (a placement, not a pick or a put-back)."""
        return self.return_to is None and (self.place is not None or self.relation == "region")


class TargetUnreachable(RuntimeError):
    """The executor cannot act on the chosen target (e.g. it is not really there)."""


class Executor(Protocol):
    """Policy-like motion source: the scripted expert or the learned VLA.

    Optional attribute ``steerable`` (absent = False): the executor writes the grounded boxes of
    its target into the policy's reasoning (``agent/vla_executor.py``), so the self-check may
    go on after a disagreement instead of asking (``agent/nodes_act.py``).
    """

    def reset(self, target: ActTarget) -> None:
        """Start a new motion towards ``target`` (clears any queued actions).

        Raises :class:`TargetUnreachable` when the target cannot be acted on.
        """

    def select_action(self, obs: dict[str, Any], instruction: str, dialogue: list[str]) -> PolicyOutput:
        """Return the next action chunk (possibly empty when the motion is finished)."""

    @property
    def done(self) -> bool:
        """True once the executor has nothing left to do for the current target."""


class InterjectionSource(Protocol):
    """Something the person may say while the arm moves ('stop', 'no, the other one')."""

    def poll(self, step: int) -> Optional[str]:
        """Return what was said before control step ``step`` (0-based), or None."""

    # A source may also have ``note_paused(paused: bool)``: the motion loop tells it when the arm
    # starts and stops waiting, so a spoken "go on" and "hold on" are read by what makes sense.


class Grounder(Protocol):
    def ground(self, instruction: str, scene: SceneObservation) -> GroundingResult: ...


class ConsistencyVerdict(Protocol):
    """What a language-vision check says (perception.consistency.ConsistencyResult fits)."""

    score: float
    consistent: bool

    def explain(self) -> str: ...


class ConsistencyCheck(Protocol):
    """SigLIP words-vs-crop check (perception.consistency.ConsistencyChecker fits)."""

    def check_objects(self, expression: str, rgb: Any, target: PerceivedObject,
                      others: Sequence[PerceivedObject] = ()) -> ConsistencyVerdict: ...


class PredictionSetCalibration(Protocol):
    """Conformal calibration of the grounder's prediction set
    (perception.conformal.ConformalCalibration fits)."""

    def apply(self, result: GroundingResult) -> GroundingResult:
        """``result`` with its prediction set replaced by the calibrated one."""


class NoInterjections:
    """An interjection source for sessions where nobody can speak mid-motion."""

    def poll(self, step: int) -> Optional[str]:
        return None


#: obs dict (see sim/arm.py) -> what perception saw; viewpoint/faults are bound by the caller.
PerceiveFn = Callable[[dict[str, Any]], SceneObservation]


@dataclass(frozen=True)
class AgentSettings:
    """Thresholds and budgets of the agent; every field can be overridden per session."""

    # Grounding confidence (0..1) at or above which a single-member prediction set is acted on.
    confidence_threshold: float = 0.6
    # Language-vision similarity below which the words and the image are said to disagree
    # (used only when the check gives a bare score; a ConsistencyCheck brings its own threshold).
    consistency_threshold: float = 0.3
    # Perception's belief (0..1) in a said attribute below which the chosen object is taken to
    # disagree with the words; a lone same-shape object is a "near miss" when its shape belief
    # reaches this ("red cube" said, "orange cube" seen): look again, then ask, not refuse.
    near_miss_prob: float = 0.1
    # Most control steps (arm.send_action calls) per motion; at 240 Hz physics / 24 physics
    # steps per control step that is 10 Hz control, so 400 steps = 40 s of simulated time.
    max_control_steps: int = 400
    # Control steps (10 Hz) the arm holds still after "wait" before it gives up waiting and ends
    # the motion as stopped ("go on" afterwards starts it again).
    max_pause_steps: int = 600
    # Most questions per instruction before it gives up politely (the person's patience).
    max_questions: int = 3
    # Answers in a row it could not use before it stops safely.
    max_unusable_answers: int = 2
    # Times it may look again when words and image disagree.
    max_reperceptions: int = 1
    # Times it tries a motion again when its own look afterwards says it missed (agent.nodes_verify).
    max_retries: int = 1
    # The policy's chain-of-thought TARGET against the grounding before a motion's first chunk.
    self_check: SelfCheckSettings = field(default_factory=SelfCheckSettings)


@dataclass
class AgentContext:
    """Everything the graph's nodes use but do not store."""

    arm: Arm
    perceive: PerceiveFn
    grounder: Grounder
    executor: Executor
    transcript: TranscriptWriter
    settings: AgentSettings = field(default_factory=AgentSettings)
    interjections: InterjectionSource = field(default_factory=NoInterjections)
    # Language-vision check of the chosen object before acting (SigLIP); None skips it.
    consistency: Optional[ConsistencyCheck] = None
    # Conformal calibration of the prediction set (KnowNo): with it a singleton set is acted on,
    # several members are asked about, an empty set means look again, then say what is missing.
    calibration: Optional[PredictionSetCalibration] = None
    # Called with each robot utterance as it is said (session UI, TTS); default: silent.
    say: Callable[[str], None] = field(default=lambda text: None)
