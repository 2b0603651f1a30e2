"""A multi-step plan: an ordered list of single-object steps the agent works through.

"put the red cube and the blue cube in the green bowl" becomes two steps, each an ordinary
single-object request ("put the red cube in the green bowl") that the graph grounds, decides,
acts on and verifies as it does any request (``agent.plan_parse`` makes the plan,
``agent.nodes_plan`` runs it). The plan lives in the checkpointed graph state, so a resumed
session knows which steps are done and never does one twice.

A step names its object in one of two ways: by the person's own words (``pick`` None: "the
red cube" of a conjunction, grounded and calibrated when the step starts, asking when unsure)
or by the object the plan chose from a look (``pick`` set: a member of "all the red blocks",
"two of the cubes", "the rest"), which each step finds again in its own new look.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from perception.types import PerceivedObject, SceneObservation

from agent.self_check import SelfCheckRecord

StepStatus = Literal["pending", "running", "done", "failed", "skipped"]
#: "next" as a sequence word ("..., next the ball"), not the relation "next to" (regex).
NEXT_IN_SEQUENCE = r"next(?!\s+to\b)"
#: Number words for what the robot says ("I'll do three things").
COUNT_WORDS = {1: "one thing", 2: "two things", 3: "three things", 4: "four things", 5: "five things",
               6: "six things", 7: "seven things", 8: "eight things"}


class PlanStep(BaseModel):
    """One single-object step of a plan."""

    model_config = ConfigDict(frozen=True)

    instruction: str = Field(description="the step as a single-object request: 'put the red cube in the green bowl'")
    words: str = Field(description="how the step names its object: 'the red cube'")
    placement: str = Field("", description="where it goes, as said: 'in the green bowl' ('' for a pick-up)")
    pick: Optional[PerceivedObject] = Field(None, description="the object the plan chose from its look (a "
                                            "quantifier's member), found again in each step's look; None: "
                                            "the step grounds ``words``")
    status: StepStatus = "pending"
    attempts: int = Field(0, description="times the step was started (a failed step is tried once more)")
    acted_on: Optional[str] = Field(None, description="sim id of the object it moved (metrics only)")
    message: str = Field("", description="how the step ended, in the robot's words")


class Plan(BaseModel):
    """The steps of one request and where the agent is in them."""

    model_config = ConfigDict(frozen=True)

    request: str = Field(description="what the person asked for, whole")
    steps: list[PlanStep]
    seen: SceneObservation = Field(description="the look the plan was made in (where chosen objects stood)")
    ordered: bool = Field(False, description="the person gave the order ('first ..., then ...')")
    current: Optional[int] = Field(None, description="index of the running step; None before the first")
    stop_after: bool = Field(False, description="'stop after this one': end once the running step ends")
    notes: list[str] = Field(default_factory=list, description="what the plan could not include, said with it")
    selector: Optional[dict[str, Optional[str]]] = Field(
        None, description="colour/shape of the chosen objects' kind ('no, all of them' widens to every one of it)")
    home: Optional[tuple[float, float, float]] = Field(
        None, description="grasp point (m, base frame) when the plan was made: the hand goes back there between steps")
    reperceptions: int = Field(0, description="second looks of finished steps")
    retries: int = Field(0, description="motions tried again in finished steps")
    self_checks: list[SelfCheckRecord] = Field(default_factory=list, description="self-check records of finished steps")
    asked: int = Field(0, description="questions asked in finished steps")
    questions: list[str] = Field(default_factory=list, description="questions asked in finished steps")

    def next_pending(self) -> Optional[int]:
        return next((i for i, s in enumerate(self.steps) if s.status == "pending"), None)

    def with_step(self, index: int, **changes: object) -> "Plan":
        steps = list(self.steps)
        steps[index] = steps[index].model_copy(update=changes)
        return self.model_copy(update={"steps": steps})

    @property
    def finished(self) -> bool:
        return self.next_pending() is None and all(s.status != "running" for s in self.steps)


def announce(plan: Plan) -> str:
    """What the robot says before it starts: "I'll do three things: the red cube, then the blue
    cube, then the yellow ball, each into the green bowl." (one placement said once)."""
    steps = [s for s in plan.steps if s.status == "pending"]
    if not steps:
        return " ".join(plan.notes) or "There is nothing to do."
    head = f"I'll do {COUNT_WORDS.get(len(steps), f'{len(steps)} things')}: "
    places = {s.placement for s in steps}
    if len(places) == 1:
        place = places.pop()
        body = ", then ".join(s.words for s in steps)
        tail = f", each {_into(place)}" if place and len(steps) > 1 else (f" {_into(place)}" if place else ", each picked up")
        text = head + body + tail + "."
    else:
        text = head + ", then ".join(f"{s.words} {_into(s.placement)}".strip() for s in steps) + "."
    if len(steps) == 1:
        text = f"I'll do one thing: {steps[0].words}" + (f" {_into(steps[0].placement)}." if steps[0].placement else ".")
    return " ".join([text, *plan.notes])


def unseen_note(words: list[str]) -> str:
    """Said with the plan when some steps name objects nothing in view fits yet: "I can't see the
    red cube or the blue cube right now; I'll ask when I get to them." (each step grounds again,
    and asks about a near miss, when its turn comes)."""
    named = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"I can't see {named} right now; I'll ask when I get to {'it' if len(words) == 1 else 'them'}."


def _into(placement: str) -> str:
    """'in the green bowl' -> 'into the green bowl', 'on the red block' -> 'onto the red block'."""
    for said, moving in (("in ", "into "), ("on ", "onto ")):
        if placement.startswith(said):
            return moving + placement[len(said):]
    return placement


def summary(plan: Plan) -> str:
    """The closing words: what was done and what was not."""
    done = [s for s in plan.steps if s.status == "done"]
    failed = [s for s in plan.steps if s.status in ("failed", "running")]
    skipped = [s for s in plan.steps if s.status == "skipped"]
    left = [s for s in plan.steps if s.status == "pending"]
    parts = []
    if done:
        parts.append(f"Done: {_listing([s.words for s in done])}" + (" (all of it)." if len(done) == len(plan.steps) else "."))
    else:
        parts.append("I did none of it.")
    if failed:
        parts.append(f"I could not do {_listing([s.words for s in failed])}.")
    if skipped:
        parts.append(f"I skipped {_listing([s.words for s in skipped])}, as you said.")
    if left:
        parts.append(f"I did not get to {_listing([s.words for s in left])}.")
    return " ".join(parts)


def _listing(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"
