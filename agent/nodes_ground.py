"""Graph nodes that take in the request and the table: listen, perceive, reperceive, ground.

A node is ``(state, runtime) -> dict`` of only the keys it changes; dependencies come from
``runtime.context`` (:class:`agent.context.AgentContext`). None of these nodes interrupts.
"""

from __future__ import annotations

from typing import Any, Optional

from langgraph.runtime import Runtime

from perception.types import Candidate, GroundingResult, PerceivedObject, SceneObservation

from agent.context import AgentContext
from agent.corrections import IDLE, apply_correction, found_again, hand_of, resume_previous
from agent.dialogue import said_attributes
from agent.interjection import read_interjection
from agent.nodes_plan import plan_follow_up
from agent.plan_parse import parse_compound
from agent.state import AgentState, DialogueTurn, Outcome


def listen(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Take the person's request and reset the per-instruction bookkeeping.

    A correction said once the previous instruction is over (``agent.interjection``: "no, the
    other one", "no, the blue one", "put it in the green bowl instead", "put it back", "go on")
    works on the previous request (``agent.corrections``): it keeps the previous scene
    observation (see ``graph.route_listen``) so the previous target's index still names that
    object. "stop" / "never mind" / "wait" with nothing running are answered, not grounded.
    """
    ctx = runtime.context
    said = state["instruction"]
    dialogue = [*state.get("dialogue", []), DialogueTurn(who="user", text=said, kind="instruction")]
    ctx.transcript.write("utterance", said)
    update: dict[str, Any] = {
        "instruction": said, "correction": False, "dialogue": dialogue, "excluded": [], "restrict": None,
        "restrict_place": None, "restrict_place2": None, "question": None, "target": None, "decision": None, "grounding": None,
        "outcome": None, "put_back": None, "unreturned": None, "halt": None, "motion_finished": False, "unusable_answers": 0,
        "asked": 0, "questions": [], "reperceptions": 0, "near_miss_asked": False, "steps": 0,
        "self_checks": [], "recheck": None, "retries": 0, "grasped": False, "relook": False, "follow": None,
        "plan": None, "plan_next": False, "plan_ambiguous": None,
    }
    follow_up = plan_follow_up(state, said)  # "also the green one" after a plan (agent.nodes_plan)
    if follow_up is not None:
        reply = follow_up.pop("reply", None)
        update.update(follow_up)
        if reply:
            ctx.say(reply)
            ctx.transcript.write("say", reply)
            update["dialogue"] = [*dialogue, DialogueTurn(who="robot", text=reply)]
        return update
    # A compound request ("the red cube and the blue ball in the bowl") is a request of its own.
    reading = None if parse_compound(said) is not None else read_interjection(said)
    last_target, last_instruction = state.get("last_target"), state.get("last_instruction")
    if reading is None or (reading.kind == "referent" and last_target is None):
        return update  # a request of its own ("the red cube" first is "pick up the red cube")
    ctx.transcript.write("interjection", said, kind=reading.kind, reading=reading.model_dump(), after_motion=True)
    if reading.kind == "other" and (last_target is None or state.get("scene") is None):
        update["outcome"] = Outcome(status="refused", success=False,
                                    message="I haven't picked anything yet, so I don't know which other one. What should I do?")
        return update
    if reading.kind in ("stop", "cancel", "pause") or last_target is None:
        update["outcome"] = Outcome(status="idle", success=False, message=IDLE)  # nothing is running
        return update
    if reading.kind == "resume":
        resumed = resume_previous(state)
        update.update(resumed or {"outcome": Outcome(status="idle", success=False, message=IDLE)})
        return update
    previous = state.get("outcome")
    prior: AgentState = {**state, **update, "instruction": last_instruction or said,  # type: ignore[typeddict-item]
                         "excluded": list(state.get("excluded", [])) if reading.kind == "other" else []}
    moved = previous is not None and previous.acted_on is not None
    change, reply = apply_correction(prior, reading, last_target, hand_of(ctx.arm.get_observation()),
                                     moved=moved, grasped=state.get("grasped", False))
    update.update({"instruction": prior["instruction"], "grasped": state.get("grasped", False), **change})
    if reply:
        ctx.say(reply)
        ctx.transcript.write("say", reply)
        update["dialogue"] = [*update["dialogue"], DialogueTurn(who="robot", text=reply)]
    return update


def look(ctx: AgentContext) -> SceneObservation:
    """Perceive the arm's detailed frame (``Arm.get_observation(detail=True)``), with the pixel
    boxes given in the policy's frame, where questions draw them and the self-check compares them."""
    obs = ctx.arm.get_observation(detail=True)
    scene = ctx.perceive(obs)
    if "rgb" in obs:
        policy_h, policy_w = ctx.arm.observation_features["rgb"][0][:2]
        detail_h, detail_w = obs["rgb"].shape[:2]
        scene = scene.boxes_scaled((detail_w, detail_h), (policy_w, policy_h))
    ctx.transcript.write(
        "perception",
        "; ".join(f"{o.index}. {o.describe()}" for o in scene.objects) or "nothing",
        objects=[o.model_dump(mode="json") for o in scene.objects],
        source=scene.source,
    )
    return scene


def perceive(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Look at the table once."""
    return {"scene": look(runtime.context)}


def reperceive(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Look again (words and image disagreed); earlier answers referred to old indices."""
    ctx = runtime.context
    ctx.say("Let me look again.")
    ctx.transcript.write("say", "Let me look again.")
    return {
        "scene": look(ctx),
        "reperceptions": state.get("reperceptions", 0) + 1,
        "restrict": None,
        "restrict_place": None,
        "restrict_place2": None,
    }


def ground(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Ground the request in the scene, then apply what the dialogue ruled in or out.

    When the person chose an object the request's words did not match ("yes" to "Do you mean
    the orange cube?"), the request is grounded again naming that object instead; when they
    ruled out everything the words matched ("no, the other one" after "the cube on the left"),
    it is grounded again with just the ruled-out object's colour and shape.
    """
    ctx = runtime.context
    scene = state["scene"]
    assert scene is not None, "ground runs after perceive"
    instruction = state["instruction"]
    raw = _ground(ctx, instruction, scene)
    restrict = state.get("restrict")
    follow = state.get("follow")
    if follow is not None:
        # A new destination for an object it set down: the same object, found in this new look.
        found = found_again(scene, follow)
        restrict = [found] if found is not None else restrict
    excluded = [c.pick for c in state.get("excluded", [])]
    if restrict and not any(c.pick in restrict for c in raw.candidates):
        instruction = _renamed(instruction, raw.parse.get("pick"), scene, restrict[0])
        raw = _ground(ctx, instruction, scene)
    elif excluded and raw.candidates and not state.get("near_miss_asked") and not any(c.pick not in excluded for c in raw.candidates):
        # "The other one": another of the same kind, whatever words singled out the first.
        instruction = _renamed(instruction, raw.parse.get("pick"), scene, excluded[-1])
        raw = _ground(ctx, instruction, scene)
    result = constrain(
        raw,
        excluded=excluded,
        restrict=restrict,
        restrict_place=state.get("restrict_place"),
        restrict_place2=state.get("restrict_place2"),
    )
    note = None
    # The check crops a fresh frame at the observation's boxes: after a correction that kept the
    # last look, the arm stands where it stopped, often in front of what it is to take next.
    kept = state.get("correction", False) and not state.get("relook", False)
    if ctx.consistency is not None and result.prediction_set and restrict is None and not kept:
        result, note = _check_consistency(ctx, result, scene)
    ctx.transcript.write(
        "grounding",
        f"{len(result.prediction_set)} plausible, confidence {result.confidence:.2f}",
        instruction=instruction,
        candidates=[c.model_dump() for c in result.candidates],
        prediction_set=[c.model_dump() for c in result.prediction_set],
        confidence=result.confidence,
        consistency=result.consistency,
        consistency_note=note,
        unmatched=result.unmatched,
        parse=result.parse,
    )
    update: dict[str, Any] = {"grounding": result, "consistency_note": note}
    if follow is not None:
        update.update(follow=None, restrict=restrict)
    return {**update, "relook": False}


def _ground(ctx: AgentContext, instruction: str, scene: SceneObservation) -> GroundingResult:
    """The grounder's result, its prediction set replaced by the calibrated one when calibrated."""
    raw = ctx.grounder.ground(instruction, scene)
    return ctx.calibration.apply(raw) if ctx.calibration is not None else raw


def _renamed(instruction: str, pick_words: Optional[str], scene: SceneObservation, index: int) -> str:
    """``instruction`` with its pick phrase replaced by the chosen object's own words."""
    obj = next((o for o in scene.objects if o.index == index), None)
    if obj is None or not pick_words or pick_words not in instruction:
        return instruction
    return instruction.replace(pick_words, f"the {obj.color} {obj.shape}", 1)


#: Perception's (depth-geometry) belief in the said shape at or above which a SigLIP shape doubt
#: alone does not stop the robot (colour doubts always do).
SURE_SHAPE = 0.9


def _check_consistency(ctx: AgentContext, result: GroundingResult,
                       scene: SceneObservation) -> tuple[GroundingResult, Optional[str]]:
    """SigLIP check of the words against the best pick's crop (a fresh frame: the arm is still)."""
    assert ctx.consistency is not None
    best = max(result.prediction_set, key=lambda c: c.score)
    target = next((o for o in scene.objects if o.index == best.pick), None)
    rgb = ctx.arm.get_observation().get("rgb")
    if target is None or rgb is None:
        return result, None
    # Only what a crop can show: colour and shape ("a yellow cube"), not "on the left" or size,
    # which the embedder was never trained to judge (they only add noise to the text side).
    color, shape = said_attributes(result.parse.get("pick") or "")
    if color is None and shape is None:
        return result, None
    words = " ".join(w for w in ("a", color, shape) if w)
    verdict = ctx.consistency.check_objects(words, rgb, target, scene.objects)
    updated = result.model_copy(update={"consistency": float(verdict.score)})
    if verdict.consistent:
        _say_relabel(ctx, target, color, shape)
        return updated, None
    seen_color = getattr(verdict, "seen_color", None)
    if shape is not None and color is not None and seen_color == color and target.shape_scores.get(shape, 0.0) >= SURE_SHAPE:
        # Only the shape is doubted, and depth geometry is sure of it: the small embedder's shape
        # reading (about 80% right on held-out renders) does not overrule it.
        ctx.transcript.write("consistency", f"shape doubt overruled by geometry ({shape} belief "
                             f"{target.shape_scores.get(shape, 0.0):.2f}): {verdict.explain()}", score=float(verdict.score))
        return updated, None
    return updated, verdict.explain()


def _say_relabel(ctx: AgentContext, target: PerceivedObject, color: Optional[str], shape: Optional[str]) -> None:
    """The words named ``target`` by a colour or shape perception did not label it with, and the
    language-vision check agrees with the words: say so before acting on it ("I took that
    yellow one for a cylinder, but it looks like the yellow cube you mean."), so the person
    knows why the robot goes for what it called something else."""
    if shape is not None and shape != target.shape and (color is None or color == target.color):
        text = (f"I took that {target.color} one for a {target.shape}, but it looks like the "
                f"{target.color} {shape} you mean.")
    elif color is not None and color != target.color and (shape is None or shape == target.shape):
        text = f"I took that {target.shape} for {target.color}, but it looks like the {color} {target.shape} you mean."
    else:
        return
    ctx.say(text)
    ctx.transcript.write("say", text, relabel={"index": target.index, "color": color, "shape": shape})


def constrain(
    result: GroundingResult,
    excluded: list[int],
    restrict: Optional[list[int]],
    restrict_place: Optional[list[int]],
    restrict_place2: Optional[list[int]] = None,
) -> GroundingResult:
    """Drop excluded picks and keep only what the person's answers allow.

    Confidence after a constraint: 1.0 when the person's answer leaves one interpretation;
    after exclusions only, the chosen pick's share of the remaining score (summed per pick).
    The grounder's own confidence is kept when nothing was constrained.
    """
    answered = restrict is not None or restrict_place is not None or restrict_place2 is not None
    if not excluded and not answered:
        return result

    def keep(c: Candidate) -> bool:
        return (
            c.pick not in excluded
            and (restrict is None or c.pick in restrict)
            and (restrict_place is None or c.place in restrict_place)
            and (restrict_place2 is None or c.place2 in restrict_place2)
        )

    candidates = [c for c in result.candidates if keep(c)]
    pset = [c for c in result.prediction_set if keep(c)]
    pool = pset
    if answered and not pset:
        # The person chose something the grounder had ruled out: the person wins.
        pset = pool = list(candidates)
    elif excluded and not pset and candidates:
        # "The other one" implies there is one: offer the best remaining, weighed against all.
        pset, pool = [candidates[0]], candidates
    distinct = {(c.pick, c.place, c.place2) for c in pset}
    if len(distinct) == 1 and answered:
        confidence = 1.0
    elif pset:
        # Share of the chosen pick in the remaining mass, summed over places per pick.
        mass: dict[int, float] = {}
        for c in pool:
            mass[c.pick] = mass.get(c.pick, 0.0) + c.score
        best = max(pset, key=lambda c: c.score).pick
        confidence = mass.get(best, 0.0) / (sum(mass.values()) or 1.0)
    else:
        confidence = 0.0
    return result.model_copy(update={"candidates": candidates, "prediction_set": pset, "confidence": confidence})
