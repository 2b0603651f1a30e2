"""Language-vision consistency: do the person's words describe the object the robot will act on?

Before acting, the agent crops the chosen object from the camera image and asks SigLIP how
probable the referring expression ("the red cube") is for that crop, and for every other
object's crop. :class:`ConsistencyChecker` returns a :class:`ConsistencyResult` with

* ``score``: sigmoid probability that the words describe the chosen object;
* ``consistent``: ``score >= threshold`` (threshold calibrated on rendered crops);
* ``best_alternative``: the other object the words fit best, and its score;
* ``seen``: what the crop looks like to SigLIP ("an orange cube"), so the agent can say
  "I see an orange cube, not a red one".

The threshold lives next to the embedder (``<checkpoint>/consistency.json``), written by
``python main.py train-siglip`` from held-out renders: it maximises balanced accuracy between
true descriptions and descriptions wrong in colour or shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
from pydantic import BaseModel, Field

from perception.crops import crop_box
from perception.siglip import DEFAULT_CHECKPOINT, SiglipEmbedder
from perception.siglip_captions import COLOR_SYNONYMS, SHAPE_SYNONYMS, Caption, all_canonical_captions
from perception.types import PerceivedObject

THRESHOLD_FILE = "consistency.json"


class ThresholdCalibration(BaseModel):
    """The decision threshold and its error rates on the data it was calibrated on."""

    threshold: float
    false_alarm_rate: float = Field(description="true descriptions scored below the threshold")
    miss_rate: float = Field(description="wrong descriptions scored at or above the threshold")
    positives: int
    negatives: int


class ConsistencyResult(BaseModel):
    """How well the words fit the chosen object, and what SigLIP sees there instead."""

    expression: str
    score: float = Field(description="P(expression describes the chosen object), sigmoid, [0, 1]")
    threshold: float
    consistent: bool
    seen: str = Field(description="nearest colour/shape caption of the chosen crop, e.g. 'an orange cube'")
    seen_color: str
    seen_shape: str
    said_color: Optional[str] = Field(None, description="canonical colour named in the expression, if any")
    said_shape: Optional[str] = Field(None, description="canonical shape named in the expression, if any")
    alternative_scores: dict[int, float] = Field(default_factory=dict, description="other object key -> score")
    best_alternative: Optional[int] = None
    best_alternative_score: Optional[float] = None

    def explain(self) -> str:
        """One sentence the agent can say about the check."""
        if self.consistent:
            return f"It looks like {self.seen}, as you said."
        if self.said_color and self.said_color != self.seen_color:
            return f"I see {self.seen}, not a {self.said_color} one."
        if self.said_shape and self.said_shape != self.seen_shape:
            return f"I see {self.seen}, not a {self.said_shape}."
        return f"I see {self.seen}; it does not look like '{self.expression}'."


class ConsistencyChecker:
    """Scores a referring expression against the chosen object's crop and the alternatives."""

    def __init__(self, embedder: SiglipEmbedder, threshold: float) -> None:
        self.embedder = embedder
        self.threshold = float(threshold)
        self._vocab: list[Caption] = all_canonical_captions()

    @classmethod
    def from_pretrained(cls, path_or_hub_id: str | Path = DEFAULT_CHECKPOINT,
                        threshold: Optional[float] = None) -> "ConsistencyChecker":
        """Embedder from ``path_or_hub_id``; threshold from its consistency.json unless given."""
        embedder = SiglipEmbedder.from_pretrained(path_or_hub_id)
        if threshold is None:
            file = Path(str(path_or_hub_id)) / THRESHOLD_FILE
            if not file.is_file():
                raise FileNotFoundError(f"no {THRESHOLD_FILE} in {path_or_hub_id}: pass threshold= or calibrate "
                                        "with calibrate_threshold() on rendered crops")
            threshold = ThresholdCalibration.model_validate_json(file.read_text()).threshold
        return cls(embedder, threshold)

    def describe(self, crop: np.ndarray) -> tuple[Caption, float]:
        """Nearest colour x shape caption of one crop, with its probability."""
        probs = self.embedder.similarity([c.text for c in self._vocab], [crop])[:, 0]
        best = int(np.argmax(probs))
        return self._vocab[best], float(probs[best])

    def check(self, expression: str, target: np.ndarray,
              alternatives: Optional[Mapping[int, np.ndarray]] = None) -> ConsistencyResult:
        """Check ``expression`` against the ``target`` crop and ``alternatives`` (key -> crop)."""
        alternatives = dict(alternatives or {})
        keys = list(alternatives)
        texts = [expression] + [c.text for c in self._vocab]
        probs = self.embedder.similarity(texts, [target] + [alternatives[k] for k in keys])
        score = float(probs[0, 0])
        seen = self._vocab[int(np.argmax(probs[1:, 0]))]
        alt = {k: float(probs[0, i + 1]) for i, k in enumerate(keys)}
        best_alt = max(alt, key=alt.__getitem__) if alt else None
        said_color, said_shape = parse_attributes(expression)
        return ConsistencyResult(
            expression=expression, score=score, threshold=self.threshold, consistent=score >= self.threshold,
            seen=_with_article(seen.text[2:]), seen_color=str(seen.color), seen_shape=str(seen.shape),
            said_color=said_color, said_shape=said_shape, alternative_scores=alt, best_alternative=best_alt,
            best_alternative_score=alt[best_alt] if best_alt is not None else None,
        )

    def check_objects(self, expression: str, rgb: np.ndarray, target: PerceivedObject,
                      others: Sequence[PerceivedObject] = (), margin: float = 0.25) -> ConsistencyResult:
        """Same as :meth:`check`, cutting crops from a camera frame by each object's box;
        alternatives are keyed by ``PerceivedObject.index``."""
        crops = {o.index: crop_box(rgb, o.box, margin) for o in others if o.index != target.index}
        return self.check(expression, crop_box(rgb, target.box, margin), crops)


def parse_attributes(expression: str) -> tuple[Optional[str], Optional[str]]:
    """First colour and shape word of ``expression`` (canonical names), None when absent."""
    color_of = {w: c for c, words in COLOR_SYNONYMS.items() for w in words}
    shape_of = {w: s for s, words in SHAPE_SYNONYMS.items() for w in words}
    words = [w.strip(".,!?;:'\"") for w in expression.lower().split()]
    # Plurals ("blocks", "boxes") fall back to the singular.
    singular = [w if w in shape_of else w[:-2] if w[:-2] in shape_of else w[:-1] for w in words]
    color = next((color_of[w] for w in words if w in color_of), None)
    shape = next((shape_of[w] for w in singular if w in shape_of), None)
    return color, shape


def calibrate_threshold(positive_scores: Sequence[float], negative_scores: Sequence[float]) -> ThresholdCalibration:
    """Threshold maximising balanced accuracy between true (positive) and wrong descriptions."""
    pos, neg = np.asarray(positive_scores, dtype=np.float64), np.asarray(negative_scores, dtype=np.float64)
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("need both true and wrong descriptions to calibrate")
    candidates = np.unique(np.concatenate([pos, neg]))
    # Balanced accuracy of "consistent iff score >= t" for every candidate t: (TPR + TNR) / 2.
    tpr = (pos[None, :] >= candidates[:, None]).mean(axis=1)
    tnr = (neg[None, :] < candidates[:, None]).mean(axis=1)
    i = int(np.argmax(tpr + tnr))
    # Put the threshold halfway to the next lower score so both sides keep a margin.
    lower = candidates[i - 1] if i > 0 else candidates[i]
    threshold = float((candidates[i] + lower) / 2.0)
    return ThresholdCalibration(threshold=threshold, false_alarm_rate=float((pos < threshold).mean()),
                                miss_rate=float((neg >= threshold).mean()), positives=len(pos), negatives=len(neg))


def save_threshold(folder: str | Path, calibration: ThresholdCalibration) -> Path:
    path = Path(folder) / THRESHOLD_FILE
    path.write_text(json.dumps(calibration.model_dump(), indent=2) + "\n")
    return path


def _with_article(text: str) -> str:
    return f"{'an' if text[:1] in 'aeiou' else 'a'} {text}"
