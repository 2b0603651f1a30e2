"""Object masks from depth alone (no simulator labels): what a real arm's camera can do.

Every pixel is deprojected to the robot base frame; pixels whose point lies above the table
inside the workspace box are foreground. Neighbouring foreground pixels (4-neighbourhood)
belong to one object when their 3-D points are within ``link_distance`` and their
chromaticities agree, so an object in front of another (adjacent in the image, far apart in
depth) and a cube resting against a differently coloured one are split.

An object lying in a bowl of its own colour links to the bowl's floor; a component whose points
trace a bowl's rim all round is split into the bowl and whatever stands inside its wall. A stack
of one colour is split at the lower object's top: the lowest level surface with something rising
well above it.

Limits: the robot's own links inside the workspace box (a gripper at the table while grasping)
appear as objects, so segment before and after motions; other same-coloured objects that touch
(side by side) merge, and so do those less than ~1.5 cm apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass(frozen=True)
class DepthSegmenter:
    """Depth + colour connected components; ranges in metres, robot base frame."""

    # Workspace box objects can be in: the table (sim.scene.TABLE_X/Y) with a margin.
    x_range: tuple[float, float] = (0.25, 0.80)
    y_range: tuple[float, float] = (-0.35, 0.35)
    # Above the table surface and below the arm's usual height. The far table reads up to 4 mm
    # high at 96 px (depth-buffer quantisation), so the floor is 8 mm.
    z_range: tuple[float, float] = (0.008, 0.20)
    # Neighbouring pixels belong together if their points are closer than this (m): 2 pixels
    # span ~1.6 cm at 96 px on this camera, the jump at an occluding edge is several cm.
    link_distance: float = 0.02
    # ...and their chromaticities (r, g, b / sum) differ by less than this (unitless).
    link_chroma: float = 0.08
    # Components with fewer pixels are noise.
    min_pixels: int = 4
    # Same-coloured pieces whose footprints come this close (m) are one object: a bowl's near
    # rim and the floor seen behind it are split by a depth jump but lie ~3 cm apart on the
    # table...
    merge_distance: float = 0.035
    # ...when together they are no wider than the wider piece plus this (m): the rim and the
    # floor span the bowl's width each, a cube set 2 cm beside a bowl of its colour widens it.
    merge_growth: float = 0.012
    # A component is a bowl when it is this wide (m; bowls are >= 12 cm across, a large cube's
    # diagonal 8.5 cm) and points at rim height lie near its outline in this share of directions.
    bowl_min_radius: float = 0.05
    rim_heights: tuple[float, float] = (0.035, 0.055)  # sim.objects.BOWL_HEIGHT is 0.045
    rim_coverage: float = 0.6
    # Inside a bowl (this far within its outline: the wall and a margin, m), points higher than
    # this above the table (the floor is 6 mm) are contents when they reach ``contents_top``.
    wall_margin: float = 0.013
    contents_floor: float = 0.012
    contents_top: float = 0.03
    # A stack of one colour: the lowest level (>= ``stack_base`` m) where ``plateau_pixels``
    # level points (slope to their neighbours under ``flat_slope``) lie within 5 mm is the lower
    # object's top; what rises ``stack_rise`` above it (from ``stack_gap`` up) is another object.
    flat_slope: float = 0.25
    stack_base: float = 0.03
    plateau_pixels: int = 8
    stack_gap: float = 0.01
    stack_rise: float = 0.03
    plateau_width: float = 0.004  # std (m) of its points across their narrowest direction

    def segment(self, rgb: np.ndarray, depth: np.ndarray, camera: object) -> np.ndarray:
        """rgb uint8 (H, W, 3), depth float32 (H, W) m -> int32 (H, W) labels 0..K-1, -1 elsewhere."""
        h, w = depth.shape
        vs, us = np.mgrid[0:h, 0:w]
        pts = camera.deproject(us.ravel(), vs.ravel(), depth.ravel()).reshape(h, w, 3)  # type: ignore[attr-defined]
        fg = ((pts[..., 0] >= self.x_range[0]) & (pts[..., 0] <= self.x_range[1])
              & (pts[..., 1] >= self.y_range[0]) & (pts[..., 1] <= self.y_range[1])
              & (pts[..., 2] >= self.z_range[0]) & (pts[..., 2] <= self.z_range[1]) & np.isfinite(depth))
        px = rgb.astype(np.float64) + 3.0
        chroma = px / px.sum(axis=2, keepdims=True)
        links = []  # (pixel index pairs, linked) per direction: right and down neighbours
        slope = np.full((h, w), np.inf)  # to the most level of the four neighbours
        for dv, du in ((0, 1), (1, 0)):
            a = fg[: h - dv, : w - du] & fg[dv:, du:]
            d = pts[dv:, du:] - pts[: h - dv, : w - du]
            near = np.linalg.norm(d, axis=2) < self.link_distance
            same = np.abs(chroma[: h - dv, : w - du] - chroma[dv:, du:]).sum(axis=2) < self.link_chroma
            src = (vs[: h - dv, : w - du] * w + us[: h - dv, : w - du]).ravel()
            dst = (vs[dv:, du:] * w + us[dv:, du:]).ravel()
            links.append((src, dst, (a & near & same).ravel()))
            step = np.abs(d[..., 2]) / np.maximum(np.hypot(d[..., 0], d[..., 1]), 1e-4)
            slope[: h - dv, : w - du] = np.minimum(slope[: h - dv, : w - du], step)
            slope[dv:, du:] = np.minimum(slope[dv:, du:], step)
        labels = self._compact(_components(fg.ravel(), [(s[ok], d[ok]) for s, d, ok in links]))
        labels = self._merge_pieces(labels, pts.reshape(-1, 3), chroma.reshape(-1, 3))
        labels, bowls = self._split_contents(labels, pts.reshape(-1, 3), links)
        flat = (slope < self.flat_slope).ravel() & ~bowls
        return self._split_stacks(labels, pts.reshape(-1, 3), flat, links).reshape(h, w)

    def _split_stacks(self, labels: np.ndarray, pts: np.ndarray, flat: np.ndarray,
                      links: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
        """Give what stands on a same-coloured object's top its own label (one colour, touching)."""
        out = labels.copy()
        fresh = int(labels.max()) + 1 if (labels >= 0).any() else 0
        z = pts[:, 2]
        n = self.plateau_pixels
        for k in np.unique(labels[labels >= 0]):
            mine = labels == k
            top = self._plateau(pts[mine & flat & (z >= self.stack_base)])
            if top is None:
                continue
            above = mine & (z > top + self.stack_gap)
            if above.sum() < n or z[above].max() < top + self.stack_rise:
                continue
            parts = _components_within(above, links)
            ids, counts = np.unique(parts[parts >= 0], return_counts=True)
            out[parts == ids[counts.argmax()]] = fresh
            fresh += 1
        return self._compact(out)

    def _plateau(self, level: np.ndarray) -> Optional[float]:
        """Height (m) of the lowest level surface among these level points: ``plateau_pixels``
        within 5 mm of one height that cover an area (a row of a wall's pixels is a line)."""
        for low in np.arange(self.stack_base, float(level[:, 2].max(initial=0.0)) + 0.005, 0.005):
            band = level[np.abs(level[:, 2] - low) <= 0.005]
            if len(band) >= self.plateau_pixels and np.sqrt(np.linalg.eigvalsh(np.cov(band[:, :2].T))[0]) >= self.plateau_width:
                return float(np.median(band[:, 2]))
        return None

    def _split_contents(self, labels: np.ndarray, pts: np.ndarray,
                        links: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        """Give what stands inside a bowl's wall its own label when it was joined to the bowl;
        also the pixels of every bowl found, contents included."""
        out = labels.copy()
        bowls = np.zeros(labels.shape, dtype=bool)
        fresh = int(labels.max()) + 1 if (labels >= 0).any() else 0
        for k in np.unique(labels[labels >= 0]):
            mine = labels == k
            xy, z = pts[mine, :2], pts[mine, 2]
            lo, hi = np.percentile(xy, 1, axis=0), np.percentile(xy, 99, axis=0)
            centre, radius = (lo + hi) / 2.0, float((hi - lo).max()) / 2.0
            if radius < self.bowl_min_radius:
                continue
            dist = np.linalg.norm(xy - centre, axis=1)
            rim = (dist > radius - 0.015) & (z >= self.rim_heights[0]) & (z <= self.rim_heights[1])
            angles = np.arctan2(*(xy[rim] - centre).T[::-1])
            if len(np.unique(((angles + np.pi) / (2 * np.pi) * 16).astype(int) % 16)) < self.rim_coverage * 16:
                continue
            bowls |= mine
            inside = np.zeros_like(mine)
            inside[np.flatnonzero(mine)] = (dist < radius - self.wall_margin) & (z > self.contents_floor)
            parts = _components_within(inside, links)
            for part in np.unique(parts[parts >= 0]):
                piece = parts == part
                if piece.sum() >= self.min_pixels and pts[piece, 2].max() >= self.contents_top:
                    out[piece] = fresh
                    fresh += 1
        return self._compact(out), bowls

    def _merge_pieces(self, labels: np.ndarray, pts: np.ndarray, chroma: np.ndarray) -> np.ndarray:
        """Join components of one colour whose xy footprints touch (see ``merge_distance``)."""
        ids = [int(k) for k in np.unique(labels[labels >= 0])]
        xy = {k: pts[labels == k, :2] for k in ids}
        col = {k: chroma[labels == k].mean(axis=0) for k in ids}
        parent = {k: k for k in ids}

        def root(k: int) -> int:
            while parent[k] != k:
                k = parent[k]
            return k

        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                if np.abs(col[a] - col[b]).sum() >= self.link_chroma:
                    continue
                gap = np.linalg.norm(xy[a][:, None, :] - xy[b][None, :, :], axis=2).min()
                wider = max(_half_width(xy[a]), _half_width(xy[b]))
                if gap < self.merge_distance and _half_width(np.vstack([xy[a], xy[b]])) <= wider + self.merge_growth:
                    parent[root(b)] = root(a)
        out = labels.copy()
        for k in ids:
            out[labels == k] = root(k)
        return self._compact(out)

    def _compact(self, labels: np.ndarray) -> np.ndarray:
        """Renumber components 0..K-1 (largest first), dropping those under min_pixels."""
        out = np.full(labels.shape, -1, dtype=np.int32)
        roots, counts = np.unique(labels[labels >= 0], return_counts=True)
        keep = [r for r, c in sorted(zip(roots, counts), key=lambda rc: -rc[1]) if c >= self.min_pixels]
        for k, root in enumerate(keep):
            out[labels == root] = k
        return out


def _half_width(xy: np.ndarray) -> float:
    """Half the larger side (m) of the box around a piece's points on the table."""
    return float(np.ptp(xy, axis=0).max()) / 2.0


def _components_within(mask: np.ndarray, links: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """Connected components of the ``mask`` pixels over the links between two of them."""
    edges = []
    for src, dst, ok in links:
        keep = ok & mask[src] & mask[dst]
        edges.append((src[keep], dst[keep]))
    return _components(mask, edges)


def _components(fg: np.ndarray, edges: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Connected components by min-label propagation: (N,) foreground flags and pixel-index edge
    lists -> (N,) component id (the smallest pixel index in it), -1 for background."""
    labels = np.where(fg, np.arange(fg.size), -1)
    src = np.concatenate([e[0] for e in edges]) if edges else np.zeros(0, dtype=np.int64)
    dst = np.concatenate([e[1] for e in edges]) if edges else np.zeros(0, dtype=np.int64)
    while True:
        low = np.minimum(labels[src], labels[dst])
        before = labels.copy()
        np.minimum.at(labels, src, low)
        np.minimum.at(labels, dst, low)
        labels[fg] = labels[labels[fg]]  # pointer jumping: follow each label to its own label
        if np.array_equal(labels, before):
            return labels
