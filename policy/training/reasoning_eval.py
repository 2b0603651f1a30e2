"""Open-loop check of the written chain of thought against sim truth, without a simulator.

Used at every training eval (``policy/training/training.py``): held-out demo rows carry the true
reasoning, so the policy's TARGET on an episode's first frame can be scored by name and box
IoU on a machine without pybullet (the GPU box). Closed-loop success is ``main.py eval``.
"""

from __future__ import annotations

import numpy as np

from policy.model.checkpoint import LoadedPolicy
from policy.training.dataset import DemoTable
from policy.types import Reasoning


def unambiguous_prompt(prompts: list[str], truth: Reasoning) -> str:
    """A prompt of the episode that pins its objects down: a plain instruction, or, when the
    target or place shares its name with another visible object, one whose clarifying exchange
    says which twin ("the left or the right one? the right one"; ``main.py eval`` says it too).
    An exchange about another slot ("which bowl, the yellow one or the cyan one?") leaves the
    twins apart only by chance, so it is taken only when no exchange names a side."""
    from policy.model.cot_format import has_twin, names_a_side

    clarified = [p for p in prompts if "|" in p]
    plain = [p for p in prompts if "|" not in p]
    if not has_twin(truth):
        return (plain or prompts)[0]
    sided = [p for p in clarified if names_a_side(p.split("|", 1)[1])]
    return (sided or clarified or prompts)[0]


#: Why a written TARGET missed, in the order :func:`target_miss` tests them.
MISS_KINDS = ("name", "not_listed", "loose_box", "other_object", "pointed_elsewhere")


def target_miss(written: Reasoning, truth: Reasoning, min_iou: float = 0.5) -> str | None:
    """None when the written TARGET names the true target with box IoU >= ``min_iou``; else why not:

    - ``name``: no TARGET, or one under other words than the truth's;
    - ``not_listed``: nothing listed under the target's name overlaps it (IoU < 0.2): the
      network saw it as something else;
    - ``loose_box``: the best box listed under its name overlaps it, but by less than ``min_iou``;
    - ``other_object``: it was listed well, but the TARGET points at another object of that name;
    - ``pointed_elsewhere``: it was listed well, and the TARGET box covers no object.
    """
    from policy.model.cot_format import box_iou

    got, target = written.target, truth.target
    if got is None or target is None or got.name != target.name:
        return "name"
    if box_iou(got.box, target.box) >= min_iou:
        return None
    listed = max((box_iou(o.box, target.box) for o in written.visible if o.name == target.name), default=0.0)
    if listed < 0.2:
        return "not_listed"
    if listed < min_iou:
        return "loose_box"
    others = [o for o in truth.visible if not (o.name == target.name and o.box == target.box)]
    if any(box_iou(got.box, o.box) >= min_iou for o in others):
        return "other_object"
    return "pointed_elsewhere"


def first_frame_targets(policy: LoadedPolicy, table: DemoTable, scenes: int, device: str = "cpu",
                        rename: str = "every") -> list[dict]:
    """The TARGET the policy writes on the FIRST frame of up to ``scenes`` episodes (0 = all),
    against the sim-truth one: per scene ``episode``, ``twin`` (the target or place has a
    same-named twin), ``name_ok``, ``iou`` and ``miss`` (:func:`target_miss`; None = correct).

    Twin scenes are asked with their clarifying exchange (:func:`unambiguous_prompt`), through
    the runtime's default rules (its ``side_words`` rule included); ``rename`` is the ``namer``
    rule's mode (``RuleSet.renaming``: the object namer's second look, 'off' for the network alone).
    """
    from policy.model.cot_format import box_iou, has_twin, parse_prompt, parse_reasoning
    from policy.training.dataset import decode_png
    from policy.inference.rules import RuleSet
    from policy.inference.runtime import RuntimeSettings, VLARuntime

    if len(table) == 0:
        return []
    firsts = np.r_[0, np.flatnonzero(np.diff(table.episode)) + 1]
    firsts = firsts[:scenes] if scenes > 0 else firsts
    # dynamic: the weights change between training evaluations; a compiled step would be rebuilt
    runtime = VLARuntime(policy, RuntimeSettings(decode="dynamic", rules=RuleSet.all().renaming(rename)), device=device)
    records = []
    for i in firsts:
        truth = parse_reasoning(table.reasoning[i])
        if truth.target is None:
            continue
        runtime.reset()
        prompt = unambiguous_prompt(table.prompts[i], truth)
        chunk = runtime.predict_chunk({"rgb": decode_png(table.images[i]), "state": table.state[i]}, *parse_prompt(prompt))
        got = chunk.reasoning.target
        records.append({
            "episode": int(table.episode[i]),
            "twin": has_twin(truth),
            "name_ok": got is not None and got.name == truth.target.name,
            "iou": box_iou(got.box, truth.target.box) if got is not None else 0.0,
            "miss": target_miss(chunk.reasoning, truth),
        })
    return records


def reasoning_accuracy(policy: LoadedPolicy, table: DemoTable, scenes: int, device: str = "cpu") -> dict:
    """Open-loop check on held-out rows (:func:`first_frame_targets` of up to ``scenes`` episodes).

    Returns ``eval_target_name_acc``, ``eval_target_iou`` (mean) and ``eval_target_correct``
    (name right and IoU >= 0.5, the bar of ``main.py eval``).
    """
    if scenes <= 0:
        return {}
    records = first_frame_targets(policy, table, scenes, device)
    if not records:
        return {}
    return {"eval_target_name_acc": float(np.mean([r["name_ok"] for r in records])),
            "eval_target_iou": float(np.mean([r["iou"] for r in records])),
            "eval_target_correct": float(np.mean([r["miss"] is None for r in records]))}


def twin_answer_accuracy(policy: LoadedPolicy, table: DemoTable, scenes: int, device: str = "cpu") -> dict:
    """Does the policy follow the answer to "the left or the right one?"

    On the first frame of up to ``scenes`` episodes whose target has a visible same-named twin,
    the episode's clarified prompt is asked as recorded and with the side word swapped; the
    written TARGET must be the named object's box (IoU >= 0.5) for the recorded side and the
    twin's for the swapped one. A policy that ignores the answer points at the same box both
    times and scores about 0.5. The runtime's ``side_words`` rule is
    off: this measures the network. Returns ``eval_twin_answer_acc`` (share of the two asks right),
    ``eval_twin_both_right`` (share of scenes with both right) and ``eval_twin_scenes``.
    """
    from policy.model.cot_format import box_iou, names_a_side, parse_prompt, parse_reasoning, swap_side
    from policy.training.dataset import decode_png
    from policy.inference.rules import RuleSet
    from policy.inference.runtime import RuntimeSettings, VLARuntime

    if scenes <= 0 or len(table) == 0:
        return {}
    firsts = np.r_[0, np.flatnonzero(np.diff(table.episode)) + 1]
    runtime = VLARuntime(policy, RuntimeSettings(decode="dynamic", rules=RuleSet.all().without("side_words")), device=device)
    asks, both = [], []
    for i in firsts:
        if len(both) >= scenes:
            break
        truth = parse_reasoning(table.reasoning[i])
        if truth.target is None:
            continue
        twins = [o for o in truth.visible if o.name == truth.target.name and box_iou(o.box, truth.target.box) < 0.5]
        # The person's answer to the agent's question first (what ``main.py eval`` gives).
        prompt = next((p for p in sorted(table.prompts[i], key=lambda p: "|" not in p) if names_a_side(p)), None)
        if not twins or prompt is None:
            continue
        swapped = swap_side(prompt)
        right = []
        for ask, want in ((prompt, truth.target.box), (swapped, twins[0].box)):
            runtime.reset()
            got = runtime.predict_chunk({"rgb": decode_png(table.images[i]), "state": table.state[i]}, *parse_prompt(ask))
            target = got.reasoning.target
            right.append(target is not None and target.name == truth.target.name and box_iou(target.box, want) >= 0.5)
        asks += right
        both.append(all(right))
    if not both:
        return {}
    return {"eval_twin_answer_acc": float(np.mean(asks)), "eval_twin_both_right": float(np.mean(both)),
            "eval_twin_scenes": len(both)}
