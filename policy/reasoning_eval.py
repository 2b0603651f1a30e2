"""Open-loop check of the written chain of thought against sim truth, without a simulator.

Used at every training eval (``policy/training.py``): held-out demo rows carry the true
reasoning, so the policy's TARGET on an episode's first frame can be scored by name and box
IoU on a machine without pybullet (the GPU box). Closed-loop success is ``main.py eval``.
"""

from __future__ import annotations

import numpy as np

from policy.checkpoint import LoadedPolicy
from policy.dataset import DemoTable


def reasoning_accuracy(policy: LoadedPolicy, table: DemoTable, scenes: int, device: str = "cpu") -> dict:
    """Open-loop check on held-out rows: reason about the FIRST frame of up to ``scenes``
    episodes and compare the written TARGET with the sim-truth one (name; box IoU).

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
        plain = [p for p in table.prompts[i] if "|" not in p] or table.prompts[i]
        runtime.reset()
        chunk = runtime.predict_chunk({"rgb": decode_png(table.images[i]), "state": table.state[i]}, plain[0])
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
