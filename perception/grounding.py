"""Grounder: instruction + perceived scene -> scored (pick, place) interpretations.

Contract
--------
``Grounder.ground(instruction, scene, context=None) -> GroundingResult``

* ``candidates``: every (pick, place) pair whose pick and place each match the words with a
  likelihood >= ``min_match``, best first. ``Candidate.score`` = likelihood / (sum of all
  likelihoods + ``null_weight``): a posterior that keeps ``null_weight`` for "the person meant
  something I do not see", so a lone weak match is not reported as certain.
* ``prediction_set``: candidates with score >= ``set_ratio`` x best score (the threshold a
  conformal calibration replaces). One member = act; several = ask; none = say what failed.
* ``confidence``: best score minus second-best score, in [0, 1] (0 for a tie).
* ``unmatched``: words that matched no lexicon entry ("elephant"), plus attribute words no
  visible object has ("purple" when nothing is purple), so the agent can say what it missed.
* ``parse``: {"action", "pick", "relation", "place"} as text, for transcripts (plus "place2"
  for ``between``, "region" for a table region).
* ``between`` ("between the red bowl and the blue cube") gives (pick, place, place2) triples;
  a table region ("in the front right corner") gives picks with ``relation="region"`` and
  ``Candidate.region`` set (``perception/table_regions.py``).

Answers to clarifying questions are grounded against the current candidates with
:meth:`Grounder.filter` / :meth:`Grounder.refine`, or folded in through ``DialogueContext``.
:meth:`Grounder.relaxed` re-grounds without words nothing visible matches (a misread shape).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional, Sequence

import numpy as np
from pydantic import BaseModel, Field

from perception.matching import MatchConfig, attribute_scores, match_scores
from perception.referring import ParsedInstruction, ReferringExpression, ReferringParser
from perception.spatial import view_frame
from perception.types import Candidate, GroundingResult, PerceivedObject, SceneObservation

Slot = Literal["pick", "place"]
#: shapes the gripper can lift; a pick phrase that names no shape prefers these.
_GRASPABLE = ("cube", "ball", "cylinder")


@dataclass(frozen=True)
class GrounderConfig:
    """Thresholds of the grounder (probabilities unless stated)."""

    # Prediction set: keep candidates scoring >= set_ratio * best (conformal replaces this).
    set_ratio: float = 0.3
    # An object matches a phrase only if its likelihood is at least this.
    min_match: float = 0.05
    # Likelihood mass reserved for "none of the visible objects" in the posterior.
    null_weight: float = 0.05
    # Prior weight of a non-graspable pick (a bowl) when the words name no shape.
    ungraspable_pick: float = 0.05
    # Prior weight of an unsuitable place object for 'in' (not a bowl) / 'on' (a ball).
    unsuitable_place: float = 0.1
    # Matching softness (spatial scales, floors).
    match: MatchConfig = field(default_factory=MatchConfig)


class Answer(BaseModel):
    """One reply to a clarifying question, and which slot of the instruction it answers."""

    text: str
    slot: Slot = "pick"


class DialogueContext(BaseModel):
    """What the dialogue has already settled, applied on top of the instruction."""

    answers: list[Answer] = Field(default_factory=list, description="replies, oldest first")
    excluded_picks: list[int] = Field(default_factory=list, description="PerceivedObject.index ruled out ('no, the other one')")
    excluded_places: list[int] = Field(default_factory=list, description="PerceivedObject.index ruled out as place")


class Grounder:
    """Grounds instructions and answers in a :class:`SceneObservation` (see module docstring)."""

    def __init__(self, config: GrounderConfig = GrounderConfig(), parser: Optional[ReferringParser] = None) -> None:
        self.config = config
        self.parser = parser or ReferringParser()

    def parse(self, instruction: str) -> ParsedInstruction:
        return self.parser.parse_instruction(instruction)

    def ground(self, instruction: str | ParsedInstruction, scene: SceneObservation,
               context: Optional[DialogueContext] = None) -> GroundingResult:
        """Score every (pick, place) interpretation of ``instruction`` in ``scene``."""
        parsed = instruction if isinstance(instruction, ParsedInstruction) else self.parse(instruction)
        objs, frame, cfg = scene.objects, view_frame(scene.viewpoint), self.config
        pick = match_scores(parsed.pick, objs, frame, cfg.match) * self._pick_prior(parsed.pick, objs)
        raw: list[Candidate] = []
        # Which objects each phrase matches on its own: says which slot nothing fits.
        matches = {"pick": [o.index for i, o in enumerate(objs) if pick[i] >= cfg.min_match]}
        if parsed.region is not None:  # a part of the table: no reference object
            raw = [Candidate(pick=o.index, relation="region", region=parsed.region, score=float(pick[i]))
                   for i, o in enumerate(objs) if pick[i] >= cfg.min_match]
        elif parsed.place is None:
            raw = [Candidate(pick=o.index, score=float(pick[i])) for i, o in enumerate(objs) if pick[i] >= cfg.min_match]
        elif parsed.place2 is not None:  # between two references, each matched on its own words
            place = match_scores(parsed.place, objs, frame, cfg.match)
            place2 = match_scores(parsed.place2, objs, frame, cfg.match)
            matches["place"] = [o.index for j, o in enumerate(objs) if place[j] >= cfg.min_match]
            for i, a in enumerate(objs):
                for j, b in enumerate(objs):
                    for k, c in enumerate(objs):
                        if len({i, j, k}) == 3 and min(pick[i], place[j], place2[k]) >= cfg.min_match:
                            raw.append(Candidate(pick=a.index, place=b.index, place2=c.index, relation="between",
                                                 score=float(pick[i] * place[j] * place2[k])))
        else:
            place = match_scores(parsed.place, objs, frame, cfg.match) * self._place_prior(parsed, objs)
            matches["place"] = [o.index for j, o in enumerate(objs) if place[j] >= cfg.min_match]
            for i, a in enumerate(objs):
                for j, b in enumerate(objs):
                    if i != j and pick[i] >= cfg.min_match and place[j] >= cfg.min_match:
                        raw.append(Candidate(pick=a.index, place=b.index, relation=parsed.relation,
                                             score=float(pick[i] * place[j])))
        if context is not None:
            raw = self._apply_context(raw, scene, context)
        return self._result(raw, parsed, scene).model_copy(update={"slot_matches": matches})

    def filter(self, candidates: Sequence[Candidate], scene: SceneObservation, expression_text: str,
               slot: Slot = "pick") -> list[Candidate]:
        """Keep the candidates an answer ("the left one", "the blue one", "number 2") points to.

        Spatial words compare only the candidates' ``slot`` objects; "the second one" counts them
        in the order given (the order the question presented them); "number N" is the object
        labelled N (``PerceivedObject.index``) if it is a candidate, else the N-th. "the other
        one" drops the first candidate's object. Scores are multiplied by the answer's fit and
        renormalised to sum to the input total. An answer that constrains nothing ("yes")
        returns the candidates unchanged; one that fits none returns [].
        """
        expr = self.parser.parse_expression(expression_text)
        if not candidates or not (expr.has_content or expr.negated):
            return list(candidates)
        fit = self._answer_fit(expr, candidates, scene, slot)
        scored = [c.model_copy(update={"score": float(c.score * fit[k])}) for k, c in enumerate(candidates)
                  if fit[k] >= self.config.min_match]
        if not scored:
            return []
        best = max(c.score for c in scored)
        kept = [c for c in scored if c.score >= self.config.set_ratio * best]
        total_in = sum(c.score for c in candidates) or 1.0
        total = sum(c.score for c in kept) or 1.0
        kept = [c.model_copy(update={"score": float(c.score * total_in / total)}) for c in kept]
        return sorted(kept, key=lambda c: -c.score)

    def refine(self, result: GroundingResult, answer: str, scene: SceneObservation, slot: Slot = "pick") -> GroundingResult:
        """``result`` narrowed by one answer; same fields as :meth:`ground` returns."""
        pool = result.prediction_set or result.candidates
        narrowed = self.filter(pool, scene, answer, slot)
        expr = self.parser.parse_expression(answer)
        said = [w for w in (expr.color, expr.shape) if w]
        unmatched = list(dict.fromkeys(result.unmatched + expr.all_unmatched() + said)) if not narrowed else []
        return self._finish(narrowed, dict(result.parse), unmatched)

    def relaxed(self, instruction: str | ParsedInstruction, scene: SceneObservation) -> GroundingResult:
        """Ground again without the colour/shape words no visible object has ("the white cube"
        when perception sees only a white cylinder), so the agent can ask "do you mean the white
        cylinder?" instead of giving up. ``unmatched`` keeps the dropped words."""
        parsed = instruction if isinstance(instruction, ParsedInstruction) else self.parse(instruction)
        absent = set(self._absent_attributes(parsed, scene))
        if not absent:
            return self.ground(parsed, scene)

        def drop(expr: Optional[ReferringExpression]) -> Optional[ReferringExpression]:
            if expr is None:
                return None
            return expr.model_copy(update={a: None for a in ("color", "shape") if getattr(expr, a) in absent})

        loose = parsed.model_copy(update={"pick": drop(parsed.pick), "place": drop(parsed.place),
                                          "place2": drop(parsed.place2)})
        result = self.ground(loose, scene)
        return result.model_copy(update={"unmatched": list(dict.fromkeys([*absent, *result.unmatched]))})

    # ---- internals --------------------------------------------------------------------
    def _answer_fit(self, expr: ReferringExpression, candidates: Sequence[Candidate],
                    scene: SceneObservation, slot: Slot) -> np.ndarray:
        """(len(candidates),) fit of the answer to each candidate's ``slot`` object."""
        objs = scene.objects
        pos = {o.index: k for k, o in enumerate(objs)}
        presented = list(dict.fromkeys(getattr(c, slot) for c in candidates if getattr(c, slot) is not None))
        if expr.number is not None and expr.ordinal is None:
            if expr.number in presented:
                presented_fit = {idx: float(idx == expr.number) for idx in presented}
                return np.array([presented_fit.get(getattr(c, slot), 0.0) for c in candidates])
            expr = expr.model_copy(update={"ordinal": expr.number})
        universe = [pos[i] for i in presented if i in pos]
        if expr.other and presented:
            universe = [u for u in universe if objs[u].index != presented[0]]
            expr = expr.model_copy(update={"other": False})
        fit = match_scores(expr, objs, view_frame(scene.viewpoint), self.config.match,
                           universe=universe, order=universe)
        if not expr.has_content:  # "the other one": universe restriction is the whole answer
            fit = np.array([1.0 if k in universe else 0.0 for k in range(len(objs))])
        if expr.negated:
            fit = np.where(np.isin(np.arange(len(objs)), universe), 1.0 - fit, 0.0)
        return np.array([fit[pos[getattr(c, slot)]] if getattr(c, slot) in pos else 0.0 for c in candidates])

    def _apply_context(self, raw: list[Candidate], scene: SceneObservation, context: DialogueContext) -> list[Candidate]:
        kept = [c for c in raw if c.pick not in context.excluded_picks and c.place not in context.excluded_places]
        for answer in context.answers:
            best = max((c.score for c in kept), default=0.0)
            pool = [c for c in kept if c.score >= self.config.set_ratio * best]
            kept = self.filter(pool, scene, answer.text, answer.slot)
        return kept

    def _pick_prior(self, expr: ReferringExpression, objs: Sequence[PerceivedObject]) -> np.ndarray:
        if expr.shape is not None:
            return np.ones(len(objs))
        return np.array([1.0 if o.shape in _GRASPABLE else self.config.ungraspable_pick for o in objs])

    def _place_prior(self, parsed: ParsedInstruction, objs: Sequence[PerceivedObject]) -> np.ndarray:
        """'in' wants a bowl, 'on' a flat top; 'stack X on the green one' prefers X's shape."""
        place = parsed.place
        assert place is not None
        out = np.ones(len(objs))
        if place.shape is None:
            for k, o in enumerate(objs):
                if parsed.relation == "in" and o.shape != "bowl":
                    out[k] = self.config.unsuitable_place
                elif parsed.relation == "on" and o.shape == "ball":
                    out[k] = self.config.unsuitable_place
                elif parsed.relation == "on" and place.pronoun and parsed.pick.shape and o.shape != parsed.pick.shape:
                    out[k] = 0.5
        return out

    def _result(self, raw: list[Candidate], parsed: ParsedInstruction, scene: SceneObservation) -> GroundingResult:
        total = sum(c.score for c in raw) + self.config.null_weight
        scored = [c.model_copy(update={"score": float(c.score / total)}) for c in raw]
        parse = {"action": parsed.action, "pick": parsed.pick.text, "relation": parsed.relation,
                 "place": parsed.place.text if parsed.place else None}
        if parsed.place2 is not None:
            parse["place2"] = parsed.place2.text
        if parsed.region is not None:
            parse["region"] = parsed.region
        unmatched = list(dict.fromkeys(parsed.unmatched + self._absent_attributes(parsed, scene)))
        return self._finish(scored, parse, unmatched)

    def _finish(self, scored: list[Candidate], parse: dict, unmatched: list[str]) -> GroundingResult:
        ranked = sorted(scored, key=lambda c: -c.score)
        best = ranked[0].score if ranked else 0.0
        second = ranked[1].score if len(ranked) > 1 else 0.0
        pset = [c for c in ranked if c.score >= self.config.set_ratio * best] if ranked else []
        return GroundingResult(candidates=ranked, prediction_set=pset, confidence=float(np.clip(best - second, 0, 1)),
                               unmatched=unmatched, parse=parse)

    def _absent_attributes(self, parsed: ParsedInstruction, scene: SceneObservation) -> list[str]:
        """Colour/shape words of the request that no visible object has ("purple")."""
        missing: list[str] = []
        for expr in (parsed.pick, parsed.place, parsed.place2):
            if expr is None:
                continue
            for attr in ("color", "shape"):
                word = getattr(expr, attr)
                probe = ReferringExpression(**{attr: word}) if word else None
                if probe is not None and attribute_scores(probe, scene.objects, self.config.match).max(initial=0.0) < self.config.min_match:
                    missing.append(word)
        return missing
