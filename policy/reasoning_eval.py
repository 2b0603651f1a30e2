"""Open-loop check of the written chain of thought against sim truth, without a simulator.

Used at every training eval (``policy/training.py``): held-out demo rows carry the true
reasoning, so the policy's TARGET on an episode's first frame can be scored by name and box
IoU on a machine without pybullet (the GPU box). Closed-loop success is ``main.py eval``.
"""

from __future__ import annotations

import numpy as np

from policy.checkpoint import LoadedPolicy
from policy.dataset import DemoTable
from policy.types import Reasoning


def unambiguous_prompt(prompts: list[str], truth: Reasoning) -> str:
    """A prompt of the episode that pins its objects down: a plain instruction, or, when the
    target or place shares its name with another visible object, one with the clarifying
    exchange (the words alone cannot say which twin; ``main.py eval`` adds the exchange too)."""
    names = [obj.name for obj in truth.visible]
    shared = [o for o in (truth.target, truth.place) if o is not None and names.count(o.name) > 1]
    clarified = [p for p in prompts if "|" in p]
    plain = [p for p in prompts if "|" not in p]
    return ((clarified if shared else plain) or prompts)[0]


def reasoning_accuracy(policy: LoadedPolicy, table: DemoTable, scenes: int, device: str = "cpu") -> dict:
    """Open-loop check on held-out rows: reason about the FIRST frame of up to ``scenes``
    episodes and compare the written TARGET with the sim-truth one (name; box IoU).

    Twin scenes are asked with their clarifying exchange (:func:`unambiguous_prompt`).
    Returns ``eval_target_name_acc``, ``eval_target_iou`` (mean) and ``eval_target_correct``
    (name right and IoU >= 0.5, the bar of ``main.py eval``).
    """
    from policy.cot_format import box_iou, parse_reasoning
    from policy.dataset import decode_png
    from policy.runtime import VLARuntime

    if scenes <= 0 or len(table) == 0:
        return {}
    firsts = np.r_[0, np.flatnonzero(np.diff(table.episode)) + 1][:scenes]
    runtime = VLARuntime(policy, device=device)
    names, ious, correct = [], [], []
    for i in firsts:
        truth = parse_reasoning(table.reasoning[i]).target
        if truth is None:
            continue
        runtime.reset()
        prompt = unambiguous_prompt(table.prompts[i], parse_reasoning(table.reasoning[i]))
        chunk = runtime.predict_chunk({"rgb": decode_png(table.images[i]), "state": table.state[i]}, prompt)
        got = chunk.reasoning.target
        name_ok = got is not None and got.name == truth.name
        iou = box_iou(got.box, truth.box) if got is not None else 0.0
        names.append(name_ok)
        ious.append(iou)
        correct.append(name_ok and iou >= 0.5)
    if not names:
        return {}
    return {"eval_target_name_acc": float(np.mean(names)), "eval_target_iou": float(np.mean(ious)),
            "eval_target_correct": float(np.mean(correct))}
