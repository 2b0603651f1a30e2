"""Split conformal prediction over candidate interpretations (KnowNo): when to ask for help.

A grounder scores each candidate interpretation (object to pick, place to put it) in [0, 1].
On a calibration split of scenes whose true interpretation is known, the nonconformity of a
scene is ``1 - score(true interpretation)`` (1 when the grounder did not even propose it).
With ``n`` calibration scenes and a tolerated error rate ``epsilon``, ``qhat`` is the
``ceil((n + 1)(1 - epsilon)) / n`` empirical quantile of those nonconformities (the finite-sample
correction). At run time the prediction set holds every candidate with
``score >= 1 - qhat``; for a fresh scene drawn like the calibration ones the true
interpretation is in the set with probability >= 1 - epsilon. One member: act. Several: ask
which one. None: nothing fits, ask an open question.

Per slot. A request has two slots, the object to pick and the place to put it, and a joint
(pick, place) score spreads over every combination: "put the red cube in the bowl" with three
bowls gives three pairs near 1/3 each, none of which may clear a joint threshold, and the
refusal then names the wrong slot. So each slot gets its own set (``slot_qhat``): a slot's score
of an object is its marginal, the summed score of every candidate that puts that object in the
slot; each slot is calibrated on its own marginals at ``epsilon / 2`` (by the union bound the
pair is covered with probability >= 1 - epsilon). The prediction set is then every candidate
whose pick is in the pick set and whose place is in the place set, and ``slot_sets`` says which
slot is empty or has several members: ask "which bowl?", or say that no bowl fits.

The calibration is stored as JSON next to the models (``checkpoints/conformal.json``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal, Optional, Sequence, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from perception.types import Candidate, GroundingResult

#: Where ``python main.py calibrate`` writes the calibration by default.
DEFAULT_CALIBRATION = Path(__file__).resolve().parent.parent / "checkpoints" / "conformal.json"

T = TypeVar("T")

#: Candidates within this factor of the best score are near-ties the calibrated cut must not split.
TIE_RATIO = 0.8

Slot = Literal["pick", "place", "place2"]
SLOTS: tuple[Slot, ...] = ("pick", "place", "place2")
#: A slot without a calibration of its own uses this one's (the second reference of "between"
#: is matched exactly like the first, and is rare in calibration scenes).
CALIBRATED_AS: dict[str, str] = {"place2": "place"}


def slot_scores(candidates: Sequence[Candidate], slot: Slot) -> dict[int, float]:
    """PerceivedObject.index -> summed score of the candidates that put it in ``slot``, in the
    candidates' order (candidates without a place count for no place)."""
    out: dict[int, float] = {}
    for c in candidates:
        index = getattr(c, slot)
        if index is not None:
            out[index] = out.get(index, 0.0) + float(c.score)
    return out


def calibrate(scores_of_true: Sequence[float], epsilon: float) -> float:
    """``qhat`` from the true interpretations' scores of a calibration split.

    Returns 1.0 (every candidate is kept) when the split is too small for ``epsilon``, i.e.
    ``ceil((n + 1)(1 - epsilon)) > n``.
    """
    if not 0.0 < epsilon < 1.0:
        raise ValueError(f"epsilon must be in (0, 1), got {epsilon}")
    nonconf = np.sort(1.0 - np.clip(np.asarray(scores_of_true, dtype=np.float64), 0.0, 1.0))
    n = len(nonconf)
    if n == 0:
        raise ValueError("calibration needs at least one scene")
    k = math.ceil((n + 1) * (1.0 - epsilon))
    return 1.0 if k > n else float(nonconf[k - 1])


class CalibrationExample(BaseModel):
    """One scene's candidate scores and which candidate the person meant (None: not proposed)."""

    model_config = ConfigDict(frozen=True)

    scores: list[float] = Field(description="grounding score of each candidate interpretation")
    true_index: Optional[int] = Field(description="index into scores of the intended one, or None")
    seed: Optional[int] = None
    instruction: str = ""

    @property
    def score_of_true(self) -> float:
        return 0.0 if self.true_index is None else float(self.scores[self.true_index])


class SetStatistics(BaseModel):
    """How a calibration behaves on a split of scenes."""

    epsilon: float
    qhat: float
    scenes: int
    coverage: float = Field(description="fraction of scenes whose true interpretation is in the set")
    help_rate: float = Field(description="fraction of scenes where the set is not a single candidate (ask)")
    success_rate: float = Field(description="acts correctly alone or asks with the truth among the options")
    autonomous_success_rate: float = Field(description="singleton set holding the truth: acted without asking")
    mean_set_size: float


class ConformalCalibration(BaseModel):
    """A stored calibration: the threshold and how it was obtained."""

    epsilon: float = Field(description="tolerated rate of prediction sets that miss the truth")
    qhat: float = Field(description="calibrated nonconformity quantile; threshold = 1 - qhat")
    n_calibration: int
    score_source: str = Field("", description="which grounder produced the scores it is valid for")
    seeds: str = Field("", description="scene seeds used, e.g. '100000-100499'")
    held_out: Optional[SetStatistics] = Field(None, description="coverage/help rate on fresh seeds")
    slot_qhat: dict[str, float] = Field(
        default_factory=dict, description="per-slot quantiles ('pick', 'place') of marginal scores, each at "
        "epsilon / 2; empty: the joint qhat alone (calibrations written before slots existed)")
    slot_held_out: dict[str, SetStatistics] = Field(default_factory=dict, description="per-slot statistics on fresh seeds")

    @property
    def threshold(self) -> float:
        """Minimum score a candidate needs to enter the prediction set."""
        return 1.0 - self.qhat

    @classmethod
    def fit(cls, examples: Sequence[CalibrationExample], epsilon: float, **meta: object) -> "ConformalCalibration":
        qhat = calibrate([e.score_of_true for e in examples], epsilon)
        return cls(epsilon=epsilon, qhat=qhat, n_calibration=len(examples), **meta)  # type: ignore[arg-type]

    def prediction_set(self, candidates: Sequence[T], scores: Optional[Sequence[float]] = None) -> list[T]:
        """Candidates the grounder cannot rule out; scores default to each candidate's ``.score``."""
        values = [float(getattr(c, "score")) for c in candidates] if scores is None else list(scores)
        return [candidates[i] for i in set_members(values, self.threshold)]

    @classmethod
    def fit_slots(cls, joint: Sequence[CalibrationExample], slots: dict[str, Sequence[CalibrationExample]],
                  epsilon: float, **meta: object) -> "ConformalCalibration":
        """The joint fit plus one quantile per slot at ``epsilon / 2`` (see module docstring)."""
        result = cls.fit(joint, epsilon, **meta)
        result.slot_qhat = {slot: calibrate([e.score_of_true for e in examples], epsilon / 2.0)
                            for slot, examples in slots.items() if examples}
        return result

    def apply(self, result: GroundingResult) -> GroundingResult:
        """``result`` with its prediction set replaced by the calibrated one (same candidates):
        per slot when ``slot_qhat`` is set (:meth:`apply_slots`), else on joint scores.

        When the best clears the threshold, candidates within ``TIE_RATIO`` of it are kept too
        (see :func:`set_members`): a threshold alone can fall between near-equal scores (three identical cubes score ~0.33 each, right at a
        calibrated cut of 0.33) and would then silently pick one of look-alikes. Adding members
        only raises coverage, so the 1 - epsilon guarantee still holds.
        """
        if self.slot_qhat:
            return self.apply_slots(result)
        return result.model_copy(update={"prediction_set": self.prediction_set(result.candidates)})

    def slot_threshold(self, slot: Slot) -> float:
        """Minimum marginal score an object needs to enter ``slot``'s set."""
        qhat = self.slot_qhat.get(slot, self.slot_qhat.get(CALIBRATED_AS.get(slot, slot), self.qhat))
        return 1.0 - qhat

    def apply_slots(self, result: GroundingResult) -> GroundingResult:
        """Per-slot sets from marginal scores; the prediction set is their product over the
        candidates (a pick-only request has no place slot)."""
        sets: dict[str, list[int]] = {}
        for slot in SLOTS:
            marginals = slot_scores(result.candidates, slot)
            if marginals:
                ids = list(marginals)
                sets[slot] = [ids[i] for i in set_members(list(marginals.values()), self.slot_threshold(slot))]
        keep = {slot: set(members) for slot, members in sets.items()}
        pset = [c for c in result.candidates
                if all(getattr(c, slot) is None or getattr(c, slot) in keep.get(slot, ()) for slot in SLOTS)]
        return result.model_copy(update={"prediction_set": pset, "slot_sets": sets})

    def evaluate(self, examples: Sequence[CalibrationExample]) -> SetStatistics:
        """Coverage, help rate and success of this threshold on ``examples``."""
        return set_statistics(examples, self.qhat, self.epsilon)

    def save(self, path: str | Path = DEFAULT_CALIBRATION) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path = DEFAULT_CALIBRATION) -> "ConformalCalibration":
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no conformal calibration at {path}; run `python main.py calibrate`")
        return cls.model_validate_json(path.read_text())


def set_members(scores: Sequence[float], threshold: float, tie_ratio: float = TIE_RATIO) -> list[int]:
    """Indices kept in the set: score >= threshold, plus the best's near-ties (every candidate
    within ``tie_ratio`` of the best) when the best together with its near-ties clears the
    threshold (an empty set stays empty).

    Look-alikes split the score evenly: three identical bowls get about 0.32 each, just under a
    calibrated cut of 0.33, and a threshold alone would then keep none of them (nothing fits)
    or, with noise, one of them (a silent guess). Judged as a group they clear it, and all are
    kept: the robot asks which. ``qhat`` is calibrated on raw scores and the ties only add
    members, so coverage stays >= 1 - epsilon. Tried and dropped: calibrating on tie-adjusted
    scores (ties given the best's score, or the group's summed score). Both moved the cut off
    the exact even-split value of look-alikes (1 / (k + null weight)), where raw calibration
    puts it, and fresh three-way look-alikes then fell below it: 181/200 ambiguous scenes
    instead of 198/200."""
    best = max(scores, default=0.0)
    group = sum(s for s in scores if s >= tie_ratio * best)
    tie_cut = tie_ratio * best if best > 0.0 and group >= threshold else float("inf")
    return [i for i, s in enumerate(scores) if s >= threshold or s >= tie_cut]


def set_statistics(examples: Sequence[CalibrationExample], qhat: float, epsilon: float) -> SetStatistics:
    """Evaluate the run-time prediction sets (see :func:`set_members`) on scenes with known truth."""
    if not examples:
        raise ValueError("no scenes to evaluate")
    threshold = 1.0 - qhat
    covered = helped = success = alone = 0
    sizes = []
    for ex in examples:
        members = set_members(ex.scores, threshold)
        sizes.append(len(members))
        hit = ex.true_index is not None and ex.true_index in members
        covered += hit
        helped += len(members) != 1
        # Asking with the truth among the options, or acting alone on the truth, both succeed.
        success += hit
        alone += hit and len(members) == 1
    n = len(examples)
    return SetStatistics(epsilon=epsilon, qhat=qhat, scenes=n, coverage=covered / n, help_rate=helped / n,
                         success_rate=success / n, autonomous_success_rate=alone / n,
                         mean_set_size=float(np.mean(sizes)))
