"""How well each perceived object fits one referring expression: a likelihood in [0, 1] per object.

Absolute attributes (colour, shape, size) use perception's own probabilities
(``color_scores`` / ``shape_scores``), so an object perception is unsure about matches less
strongly. Comparative words ("left", "nearest to the bowl", "second", "biggest") are judged
among the *peers*: the objects that fit the absolute attributes about as well as the best one
(so "the left cube" compares cubes with cubes, not with the bowl). Spatial words are read in
the speaker's frame (:mod:`perception.spatial`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from perception.referring import ReferringExpression
from perception.spatial import ViewFrame
from perception.types import PerceivedObject

_SIZE_RANK = {"small": 0, "medium": 1, "large": 2}
#: P(person says size A | perceived size B), by rank distance 0 / 1 / 2. Perception reads size
#: classes from metric height at ~100% accuracy (perception/proposal_accuracy.py), so an adjacent
#: class is unlikely, yet kept above zero: people judge size relative to the other objects.
_SIZE_AGREEMENT = (1.0, 0.25, 0.03)


@dataclass(frozen=True)
class MatchConfig:
    """Softness of the matching; distances in metres."""

    # Lowest probability an attribute can give: perception may be wrong, never rule out fully.
    floor: float = 1e-3
    # Objects whose absolute fit is >= peer_ratio * best fit are compared by spatial words.
    peer_ratio: float = 0.5
    # Length scale (m) of comparative spatial words: 3 cm less "left" -> e^-1 the score.
    spatial_scale: float = 0.03
    # An object "in"/"on" another lies within this horizontal distance (m) of its centre.
    contact_radius: float = 0.06
    # Directional anchors ("the cube left of the bowl") fade beyond this distance (m).
    anchor_reach: float = 0.25
    # Score given to an object that is not the requested ordinal.
    ordinal_miss: float = 0.02


def match_scores(
    expr: ReferringExpression,
    objects: Sequence[PerceivedObject],
    frame: ViewFrame,
    cfg: MatchConfig = MatchConfig(),
    *,
    universe: Optional[Sequence[int]] = None,
    order: Optional[Sequence[int]] = None,
) -> np.ndarray:
    """(N,) likelihood in [0, 1] that ``expr`` refers to each of ``objects``.

    ``universe``: positions (into ``objects``) that may be meant; others score 0 but can still
    serve as anchors. ``order``: positions in the order they were presented to the person, used
    by ordinals ("the second one") when the expression gives no spatial direction.
    """
    n = len(objects)
    allowed = np.zeros(n, dtype=bool)
    allowed[list(range(n)) if universe is None else list(universe)] = True
    if n == 0 or expr.unknown_head:
        return np.zeros(n)
    score = attribute_scores(expr, objects, cfg) * allowed
    xy = np.array([o.position[:2] for o in objects], dtype=np.float64)
    if expr.anchor is not None and expr.anchor_relation is not None:
        score = score * _anchor_scores(expr, objects, xy, frame, cfg, score)
    peers = _peers(score, cfg)
    if expr.superlative:
        score = score * _superlative(expr.superlative, objects, peers, cfg)
        peers = _peers(score, cfg)
    elif expr.size in ("small", "large"):
        # "the small cube" next to a smaller one of the same class means the smaller one
        score = score * _superlative(expr.size, objects, peers, cfg, scale=0.008)
        peers = _peers(score, cfg)
    if expr.ordinal is not None:
        score = score * _ordinal(expr, xy, frame, peers, order, cfg)
    elif expr.spatial:
        for word in expr.spatial:
            score = score * _extreme(_spatial_coordinate(word, xy, frame, peers), peers, cfg.spatial_scale)
    return np.clip(score, 0.0, 1.0)


def attribute_scores(expr: ReferringExpression, objects: Sequence[PerceivedObject], cfg: MatchConfig) -> np.ndarray:
    """(N,) product of colour, shape and size agreement (1 where the word is absent)."""
    out = np.ones(len(objects))
    for i, obj in enumerate(objects):
        if expr.color:
            out[i] *= _prob(obj.color_scores, obj.color, expr.color, cfg.floor)
        if expr.shape:
            out[i] *= _prob(obj.shape_scores, obj.shape, expr.shape, cfg.floor)
        if expr.size and obj.size in _SIZE_RANK:
            out[i] *= _SIZE_AGREEMENT[abs(_SIZE_RANK[expr.size] - _SIZE_RANK[obj.size])]
    return out


def _prob(scores: dict[str, float], label: str, word: str, floor: float) -> float:
    """P(attribute == word) from perception's distribution, or 1/0 from its label alone."""
    p = scores.get(word, 0.0) if scores else float(label == word)
    return max(p, floor)


def _peers(score: np.ndarray, cfg: MatchConfig) -> np.ndarray:
    best = float(score.max()) if score.size else 0.0
    return score >= cfg.peer_ratio * best if best > 0 else np.zeros_like(score, dtype=bool)


def _extreme(coord: np.ndarray, peers: np.ndarray, scale: float) -> np.ndarray:
    """1 for the peer with the largest ``coord``, decaying exp(-gap/scale) for the rest."""
    if not peers.any():
        return np.ones_like(coord)
    return np.exp(np.minimum(coord - coord[peers].max(), 0.0) / scale)


def _spatial_coordinate(word: str, xy: np.ndarray, frame: ViewFrame, peers: np.ndarray) -> np.ndarray:
    """Larger = more <word>. 'nearest'/'farthest' without an anchor are relative to the viewer."""
    right, front = frame.right_of(xy), frame.front_of(xy)
    if word == "middle":
        centre = float(np.median(right[peers])) if peers.any() else 0.0
        return -np.abs(right - centre)
    # The robot stands at -x of its base frame whoever speaks ("the one closest to you").
    table = {"left": -right, "leftmost": -right, "right": right, "rightmost": right,
             "front": front, "nearest": front, "back": -front, "farthest": -front,
             "nearest_robot": -xy[:, 0], "farthest_robot": xy[:, 0]}
    return table.get(word, np.zeros(len(xy)))


def _superlative(which: str, objects: Sequence[PerceivedObject], peers: np.ndarray, cfg: MatchConfig,
                 scale: float = 0.005) -> np.ndarray:
    """'biggest'/'smallest' among peers, by metric extent (m) when perception measured it."""
    extent = np.array([o.extent if o.extent is not None else 0.04 + 0.01 * _SIZE_RANK.get(o.size, 1)
                       for o in objects])
    return _extreme(extent if which == "large" else -extent, peers, scale)


def _ordinal(expr: ReferringExpression, xy: np.ndarray, frame: ViewFrame, peers: np.ndarray,
             order: Optional[Sequence[int]], cfg: MatchConfig) -> np.ndarray:
    """1 for the k-th peer, ``ordinal_miss`` for others. Order: spatial word's direction if
    given ("second from the right"), else the presented ``order``, else left to right."""
    idx = [i for i in range(len(xy)) if peers[i]]
    if expr.spatial:
        coord = _spatial_coordinate(expr.spatial[0], xy, frame, peers)
        idx.sort(key=lambda i: -coord[i])
    elif order is not None:
        idx = [i for i in order if peers[i]]
    else:
        right = frame.right_of(xy)
        idx.sort(key=lambda i: right[i])
    out = np.full(len(xy), cfg.ordinal_miss)
    k = expr.ordinal if expr.ordinal and expr.ordinal > 0 else len(idx)
    if idx and 1 <= k <= len(idx):
        out[idx[k - 1]] = 1.0
    return out


def _anchor_scores(expr: ReferringExpression, objects: Sequence[PerceivedObject], xy: np.ndarray,
                   frame: ViewFrame, cfg: MatchConfig, own: np.ndarray) -> np.ndarray:
    """(N,) how well each object stands in ``expr.anchor_relation`` to the anchor object."""
    assert expr.anchor is not None
    anchor = match_scores(expr.anchor, objects, frame, cfg)
    if anchor.max() <= 0:
        return np.zeros(len(objects))
    j = int(anchor.argmax())  # the most likely anchor; ambiguity in the anchor lowers own score
    weight = float(anchor[j])
    offset = xy - xy[j]  # (N, 2) metres from the anchor
    dist = np.linalg.norm(offset, axis=1)
    rel = expr.anchor_relation
    not_anchor = np.arange(len(objects)) != j
    if rel in ("nearest", "next_to", "farthest"):
        peers = _peers(own * not_anchor, cfg)
        coord = dist if rel == "farthest" else -dist
        out = _extreme(coord, peers, cfg.spatial_scale)
    elif rel in ("in", "on"):
        out = np.exp(-np.maximum(dist - cfg.contact_radius, 0.0) / cfg.spatial_scale)
    else:
        lateral, depth = frame.right_of(offset), frame.front_of(offset)
        along = {"left_of": -lateral, "right_of": lateral, "in_front_of": depth, "behind": -depth}.get(rel)
        if along is None:
            return np.ones(len(objects))
        # in that direction (sigmoid over 2 cm) and not too far away
        out = 1.0 / (1.0 + np.exp(-along / 0.02)) * np.exp(-np.maximum(dist - cfg.anchor_reach, 0.0) / 0.1)
    return out * weight * not_anchor
