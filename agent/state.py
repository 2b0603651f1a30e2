"""The agent graph's state: everything a session must remember, and nothing it can rebuild.

The state is checkpointed after every node (SQLite, keyed by the session id), so it holds only
serialisable data: plain values and the pydantic models below or from ``perception.types``.
Live objects (arm, models, transcript file) live in :class:`agent.context.AgentContext`.
Nodes return only the keys they change; lists are replaced whole (no reducers), which keeps a
re-run node (after an ``interrupt`` resume) from appending twice.
"""

from __future__ import annotations

from typing import Literal, Optional, TypedDict

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from pydantic import BaseModel, ConfigDict, Field

from perception.types import Candidate, GroundingResult, PerceivedObject, SceneObservation

from agent.interjection import InterjectionKind
from agent.plan import Plan, PlanStep
from agent.self_check import SelfCheckRecord, SelfCheckVerdict

Speaker = Literal["user", "robot"]
TurnKind = Literal["instruction", "question", "answer", "say", "interjection"]
DecisionKind = Literal["act", "clarify", "reperceive", "refuse"]
OutcomeStatus = Literal["success", "failed", "stopped", "cancelled", "refused", "gave_up", "idle"]


class DialogueTurn(BaseModel):
    """One line of the conversation, in the order it was said."""

    model_config = ConfigDict(frozen=True)

    who: Speaker
    text: str
    kind: TurnKind = "say"


class Decision(BaseModel):
    """What ``decide`` chose and the signals it chose on (logged to the transcript)."""

    model_config = ConfigDict(frozen=True)

    kind: DecisionKind
    reason: str
    confidence: float = Field(0.0, description="grounding confidence in [0, 1] after dialogue constraints")
    consistency: Optional[float] = Field(None, description="language-vision similarity of the best pick")
    set_size: int = Field(0, description="size of the prediction set after exclusions/answers")
    scores: dict[int, float] = Field(default_factory=dict, description="pick index -> candidate score")
    say: str = Field("", description="what the robot tells the person about it (refusals)")
    status: Optional[OutcomeStatus] = Field(None, description="for refuse: refused (nothing fits) or gave_up")


class PendingQuestion(BaseModel):
    """A question put to the person and what an answer can refer to."""

    model_config = ConfigDict(frozen=True)

    text: str
    options: list[int] = Field(description="PerceivedObject.index of each option, in the order the question names them")
    about: Literal["pick", "place", "place2", "correction"] = Field(
        "pick", description="whether the options are things to pick or places (place2: the second reference of "
        "'between'); 'correction': an open question "
        "after a correction it could not read ('What should I do instead?'), no options")
    yes_no: bool = Field(False, description="True when the question proposes options[0] and expects yes/no")
    attempt: int = Field(1, description="1 for the first wording, 2 for the rephrased one after an unusable answer")
    image: Optional[str] = Field(None, description="PNG of the camera frame with the options as numbered boxes (1 = named first)")


class TrackedObject(BaseModel):
    """An object the robot moved and set down, to be found again in a new look (a new
    destination said after it let go: ``agent.outcome_check.find_again``)."""

    model_config = ConfigDict(frozen=True)

    obj: PerceivedObject = Field(description="the object as perceived in ``before``")
    before: SceneObservation = Field(description="the look it was chosen in")
    xy: tuple[float, float] = Field(description="grasp point (x, y) in metres, base frame, when the hand let go")


class Outcome(BaseModel):
    """How one instruction ended."""

    model_config = ConfigDict(frozen=True)

    status: OutcomeStatus
    success: bool = Field(description="the robot's own verdict: its look after the motion says it was done")
    verified: bool = Field(False, description="True when that verdict comes from a look after a motion")
    acted_on: Optional[str] = Field(None, description="sim id of the object it picked, if any")
    message: str = Field("", description="the robot's closing words to the person")


class AgentState(TypedDict, total=False):
    """Graph state; every field is optional so nodes can return partial updates."""

    session_id: str
    """Thread id of the checkpointer; also names the transcript."""
    instruction: str
    """The request being worked on (after a 'no, the other one' correction: the earlier request)."""
    correction: bool
    """The utterance corrected the previous instruction ('no, the other one', 'no, the blue one',
    'put it in the green bowl instead', 'go on'): reuse its scene (unless ``relook``)."""
    dialogue: list[DialogueTurn]
    """Whole conversation of the session, across instructions."""
    scene: Optional[SceneObservation]
    """Latest perception of the table."""
    grounding: Optional[GroundingResult]
    """Grounder output after exclusions and answers were applied."""
    consistency_note: Optional[str]
    """Why the words and the image disagree ("I see an orange cube, not a red one"), or None."""
    decision: Optional[Decision]
    """Latest decision of the ``decide`` node."""
    question: Optional[PendingQuestion]
    """The question awaiting an answer (None when none is pending)."""
    restrict: Optional[list[int]]
    """Pick indices the person's answers narrowed the choice to (None: no answer yet)."""
    restrict_place: Optional[list[int]]
    restrict_place2: Optional[list[int]]
    """Place indices the person's answers narrowed the placement to (None: no answer yet)."""
    target: Optional[Candidate]
    """The candidate chosen to act on."""
    excluded: list[Candidate]
    """Candidates ruled out ('no, the other one'); compared by pick index."""
    unusable_answers: int
    """Answers in a row that could not be interpreted (two -> safe stop)."""
    asked: int
    """Questions asked for this instruction."""
    questions: list[str]
    """Text of each question asked for this instruction."""
    reperceptions: int
    """Times it looked again for this instruction."""
    near_miss_asked: bool
    """It already asked about a near miss ("I see a white cylinder, not a white cube") for this
    instruction: a 'no' to it ends in a refusal rather than another guess."""
    steps: int
    """Control steps sent to the arm for this instruction."""
    self_checks: list[SelfCheckRecord]
    """Each check of the policy's chain-of-thought TARGET against the grounding before a motion's
    first chunk, for this instruction, and what was done about it (passed, looked again, asked...)."""
    recheck: Optional[Literal["look_again", "ask"]]
    """Set by ``act`` when the policy's TARGET disagreed and nothing was sent: look again
    (``reperceive``) or ask the pending question (``clarify``); None otherwise."""
    retries: int
    """Times ``verify`` sent a motion again after its own look said it missed, this instruction."""
    motion_finished: bool
    """The executor finished its motion (not cut short, not out of steps)."""
    halt: Optional[InterjectionKind]
    """What the person said that cut the last control loop short, if anything
    (``agent.interjection``: referent, other, destination, undo, cancel, stop, unclear)."""
    grasped: bool
    """The hand closed during the last motion (so its pick may now stand somewhere new)."""
    relook: bool
    """After a correction: look at the table anew before grounding (the pick was set down
    somewhere the last look did not see it); False: ground in the last look."""
    follow: Optional[TrackedObject]
    """The object a new destination is for, to find again in the new look (``ground`` keeps
    the pick to it); None otherwise."""
    put_back: Optional[Candidate]
    """A wrong pick ('no, the other one') to return where it stood in ``scene`` before anything else."""
    unreturned: Optional[str]
    """What the look after a put-back found not back where it stood ("the red cube is not back
    where it was"); the instruction's verdict then says so and is no success."""
    last_target: Optional[Candidate]
    """Target of the previous instruction, for a later 'no, the other one'."""
    last_instruction: Optional[str]
    """Previous instruction of the session, for a later 'no, the other one'."""
    plan: Optional[Plan]
    """The steps of a multi-step request and where it is in them (``agent.nodes_plan``); None for
    a single-object request. Kept after the plan ends (its steps' statuses), until the next request."""
    plan_next: bool
    """``plan_step`` closed a step and another is pending: the ``plan`` node starts it."""
    plan_ambiguous: Optional[dict[str, list[int]]]
    """Plan steps (position, as text) whose words fit several objects -> their options: asked
    about in one question before the plan starts (``agent.plan_questions``)."""
    outcome: Optional[Outcome]
    """Final result of the instruction (set by decide on refusal, clarify on cancel, act on stop
    or an unreachable target, listen on a correction with nothing to correct, or verify)."""


#: Types the checkpointer may rebuild from msgpack (langgraph warns about, and will block,
#: any type not allow-listed).
STATE_TYPES: tuple[type, ...] = (
    Plan,
    PlanStep,
    DialogueTurn,
    Decision,
    PendingQuestion,
    Outcome,
    TrackedObject,
    SelfCheckRecord,
    SelfCheckVerdict,
    Candidate,
    GroundingResult,
    PerceivedObject,
    SceneObservation,
)


def make_serializer() -> JsonPlusSerializer:
    """A checkpoint serializer that accepts exactly the state's own model types."""
    return JsonPlusSerializer(allowed_msgpack_modules=STATE_TYPES)
