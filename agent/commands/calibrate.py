"""python main.py calibrate: conformal calibration of grounding scores (KnowNo-style asking).

Generates procedural scenes (``agent.suites``: unambiguous, ambiguous and relation requests,
mixed round-robin), renders each in PyBullet, perceives it with ``perception.proposals.perceive``
and grounds the request with the perception ``Grounder``: exactly the scores the agent sees.
The person's intent (pick, place) is known, so each scene gives the score of the true
interpretation. ``perception.conformal`` turns the calibration split into ``qhat``; fresh
seeds measure coverage (must be >= 1 - epsilon) and the help rate. Writes the calibration JSON
(``checkpoints/conformal.json``) and a plot of help rate / success / coverage vs epsilon.

Seeds: calibration ``--seeds`` (default 100000..), evaluation ``--eval-seeds`` (default
200000..); tests and bundled suites use small seeds, so the splits never overlap.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import numpy as np

from perception.conformal import (
    DEFAULT_CALIBRATION,
    SLOTS,
    CalibrationExample,
    ConformalCalibration,
    SetStatistics,
    set_members,
    set_statistics,
    slot_scores,
)

#: Suites whose intent is a real interpretation of the words (infeasible/correction are not).
DEFAULT_SUITES = ("unambiguous", "ambiguous", "relations", "knowno")
CALIBRATION_SEED_BASE = 100_000
EVALUATION_SEED_BASE = 200_000
#: Metres within which a perceived centroid counts as the true object when no sim label is given.
MATCH_RADIUS = 0.05
#: Epsilons of the help-rate / success sweep plotted in docs/figures.
SWEEP = (0.01, 0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
DEFAULT_FIGURE = Path(__file__).resolve().parents[2] / "docs" / "figures" / "conformal_help_vs_epsilon.png"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epsilon", type=float, default=0.05, help="tolerated rate of sets missing the truth")
    parser.add_argument("--scenarios", type=int, default=500, help="calibration scenes (and as many fresh ones)")
    parser.add_argument("--seeds", default=None, help="calibration seeds, e.g. 100000-100499 (default from --scenarios)")
    parser.add_argument("--eval-seeds", default=None, help="fresh seeds for coverage (default 200000-...)")
    parser.add_argument("--suites", default=",".join(DEFAULT_SUITES), help="procedural suites to mix")
    parser.add_argument("--out", type=Path, default=DEFAULT_CALIBRATION, help="calibration JSON to write")
    parser.add_argument("--figure", type=Path, default=DEFAULT_FIGURE, help="PNG of help rate/success vs epsilon")


def true_object(objects: Sequence[Any], object_id: str, position: Sequence[float]) -> Optional[int]:
    """PerceivedObject.index of the scene object ``object_id`` (sim label, else nearest centroid)."""
    for obj in objects:
        if obj.sim_id == object_id:
            return int(obj.index)
    if not objects:
        return None
    dists = [float(np.hypot(o.position[0] - position[0], o.position[1] - position[1])) for o in objects]
    best = int(np.argmin(dists))
    return int(objects[best].index) if dists[best] <= MATCH_RADIUS else None


@dataclass(frozen=True)
class SceneExamples:
    """One grounded calibration scene: the joint (pick, place) example and one per slot (the
    slot's marginal scores and the true object's position among them; None: no such slot)."""

    joint: CalibrationExample
    slots: dict[str, Optional[CalibrationExample]]


def collect_examples(seeds: Iterable[int], suites: Sequence[str]) -> list[SceneExamples]:
    """Ground one procedural scenario per seed; record candidate scores and the true one."""
    from agent.suites import make_scenario
    from perception.grounding import Grounder
    from perception.proposals import perceive
    from sim.pybullet_arm import PyBulletArm

    from agent.runner import RunConfig

    grounder = Grounder()
    # The agent's own look: the detailed frame (RunConfig.perception_size), as agent.nodes_ground.look.
    arm = PyBulletArm(detail_size=RunConfig().perception_size)
    arm.connect()
    examples = []
    try:
        for k, seed in enumerate(seeds):
            scenario = make_scenario(suites[k % len(suites)], seed)
            arm.load_scene(scenario.scene)
            # Labels attach sim ids to proposals: used here to score the truth, never to ground.
            seen = perceive(arm.get_observation(detail=True), viewpoint=scenario.scene.viewpoint,
                            labels=arm.segmentation_labels)
            result = grounder.ground(scenario.instruction, seen)
            examples.append(_example(scenario, seen.objects, result.candidates, seed))
    finally:
        arm.disconnect()
    return examples


def _example(scenario: Any, objects: Sequence[Any], candidates: Sequence[Any], seed: int) -> SceneExamples:
    intent = scenario.user.first
    scene = scenario.scene
    pick = true_object(objects, intent.pick, scene.get(intent.pick).position)
    place = None if intent.place is None else true_object(objects, intent.place, scene.get(intent.place).position)
    place2 = None if intent.place2 is None else true_object(objects, intent.place2, scene.get(intent.place2).position)
    truth = next((i for i, c in enumerate(candidates) if c.pick == pick and c.place == place and c.place2 == place2
                  and pick is not None and (intent.place is None or place is not None)), None)
    joint = CalibrationExample(scores=[float(c.score) for c in candidates], true_index=truth, seed=seed,
                               instruction=scenario.instruction)
    slots: dict[str, Optional[CalibrationExample]] = {}
    for slot, true in (("pick", pick), ("place", place)):
        if slot == "place" and intent.place is None:
            slots[slot] = None
            continue
        marginals = slot_scores(candidates, slot)  # type: ignore[arg-type]
        ids = list(marginals)
        slots[slot] = CalibrationExample(scores=list(marginals.values()), seed=seed, instruction=scenario.instruction,
                                         true_index=ids.index(true) if true in ids else None)
    return SceneExamples(joint=joint, slots=slots)


def slot_examples(scenes: Sequence[SceneExamples], slot: str) -> list[CalibrationExample]:
    return [ex for s in scenes if (ex := s.slots.get(slot)) is not None]


def slot_statistics(scenes: Sequence[SceneExamples], calibration: ConformalCalibration) -> SetStatistics:
    """The run-time per-slot sets on ``scenes``: covered when every slot's set holds the truth;
    help when some slot's set is not a single object (the agent then asks)."""
    covered = helped = alone = 0
    sizes = []
    for scene in scenes:
        hit, single, size = True, True, 1
        for slot in SLOTS:
            ex = scene.slots.get(slot)
            if ex is None:
                continue
            members = set_members(ex.scores, calibration.slot_threshold(slot))  # type: ignore[arg-type]
            hit = hit and ex.true_index is not None and ex.true_index in members
            single = single and len(members) == 1
            size *= len(members)
        covered += hit
        helped += not single
        alone += hit and single
        sizes.append(size)
    n = len(scenes)
    return SetStatistics(epsilon=calibration.epsilon, qhat=calibration.qhat, scenes=n, coverage=covered / n,
                         help_rate=helped / n, success_rate=covered / n, autonomous_success_rate=alone / n,
                         mean_set_size=float(np.mean(sizes)))


def fit(scenes: Sequence[SceneExamples], epsilon: float, **meta: object) -> ConformalCalibration:
    """Joint and per-slot calibration on ``scenes``."""
    return ConformalCalibration.fit_slots([s.joint for s in scenes], {slot: slot_examples(scenes, slot) for slot in SLOTS},
                                          epsilon, **meta)


def sweep(calibration: Sequence[SceneExamples], fresh: Sequence[SceneExamples],
          epsilons: Sequence[float] = SWEEP) -> list[SetStatistics]:
    """For each epsilon: calibrate per slot on ``calibration``, measure on ``fresh``."""
    return [slot_statistics(fresh, fit(calibration, eps)) for eps in epsilons]


def plot_sweep(stats: Sequence[SetStatistics], path: Path, title: str) -> Path:
    """Help rate, success, autonomous success and coverage vs epsilon (held-out scenes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    eps = [s.epsilon for s in stats]
    fig, ax = plt.subplots(figsize=(6, 4))
    # Success = the truth is in the set (act on it alone, or ask with it among the options),
    # so it coincides with coverage; the 1 - epsilon line is the promise it must keep.
    ax.plot(eps, [s.success_rate for s in stats], "o-", label="success = coverage (act right or ask)")
    ax.plot(eps, [s.autonomous_success_rate for s in stats], "^-", label="success without asking")
    ax.plot(eps, [s.help_rate for s in stats], "d-", label="help rate (asks)")
    ax.plot(eps, [1 - e for e in eps], "k:", label="1 - epsilon")
    ax.set_xlabel("epsilon (tolerated miss rate)")
    ax.set_ylabel("fraction of fresh scenes")
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _seed_list(text: Optional[str], base: int, n: int) -> list[int]:
    from agent.suites import parse_seeds

    seeds = parse_seeds(text) if text else list(range(base, base + n))
    if len(seeds) < n:
        raise SystemExit(f"--scenarios {n} needs at least {n} seeds, got {len(seeds)} from {text!r}")
    return seeds[:n]


def _span(seeds: Sequence[int]) -> str:
    return f"{min(seeds)}-{max(seeds)}" if list(seeds) == list(range(min(seeds), max(seeds) + 1)) else ",".join(map(str, seeds))


def run(args: argparse.Namespace) -> int:
    suites = [s.strip() for s in args.suites.split(",") if s.strip()]
    cal_seeds = _seed_list(args.seeds, CALIBRATION_SEED_BASE, args.scenarios)
    eval_seeds = _seed_list(args.eval_seeds, EVALUATION_SEED_BASE, args.scenarios)
    if set(cal_seeds) & set(eval_seeds):
        raise SystemExit("calibration and evaluation seeds overlap; coverage would be measured on seen scenes")
    t0 = time.perf_counter()
    calibration = collect_examples(cal_seeds, suites)
    fresh = collect_examples(eval_seeds, suites)
    elapsed = time.perf_counter() - t0
    result = fit(calibration, args.epsilon, score_source="perception.grounding.Grounder", seeds=_span(cal_seeds))
    result.held_out = slot_statistics(fresh, result)
    result.slot_held_out = {slot: set_statistics(slot_examples(fresh, slot), result.slot_qhat[slot], args.epsilon / 2)
                            for slot in result.slot_qhat}
    joint = set_statistics([s.joint for s in fresh], result.qhat, args.epsilon)
    path = result.save(args.out)
    stats = sweep(calibration, fresh)
    figure = plot_sweep(stats, args.figure, f"KnowNo conformal sets: {len(calibration)} calibration / "
                        f"{len(fresh)} fresh scenes\nsuites: {', '.join(suites)}")
    h = result.held_out
    print(f"grounded {len(calibration) + len(fresh)} scenes in {elapsed:.0f} s")
    print(f"epsilon {args.epsilon}: per-slot thresholds "
          + ", ".join(f"{slot} {result.slot_threshold(slot):.4f}" for slot in result.slot_qhat) + f" -> {path}")
    print(f"fresh seeds {_span(eval_seeds)}, per-slot sets: coverage {h.coverage:.3f} (target >= {1 - args.epsilon:.3f}), "
          f"help rate {h.help_rate:.3f}, mean set size {h.mean_set_size:.2f}, "
          f"not proposed {sum(s.joint.true_index is None for s in fresh)}")
    print(f"  (joint sets alone, threshold {result.threshold:.4f}: coverage {joint.coverage:.3f}, help rate {joint.help_rate:.3f})")
    print("epsilon  coverage  help   success  alone")
    for s in stats:
        print(f"{s.epsilon:7.2f}  {s.coverage:8.3f}  {s.help_rate:5.3f}  {s.success_rate:7.3f}  {s.autonomous_success_rate:5.3f}")
    print(f"plot -> {figure}")
    return 0
