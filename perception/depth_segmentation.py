"""Object masks from depth alone (no simulator labels): what a real arm's camera can do.

Every pixel is deprojected to the robot base frame; pixels whose point lies above the table
inside the workspace box are foreground. Neighbouring foreground pixels (4-neighbourhood)
belong to one object when their 3-D points are within ``link_distance`` and their
chromaticities agree, so an object in front of another (adjacent in the image, far apart in
depth) and a cube resting against a differently coloured one are split.

Limits: the robot's own links inside the workspace box (a gripper at the table while grasping)
appear as objects, so segment before and after motions; same-coloured objects that touch merge.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    # table. Distinct same-coloured objects closer than this merge (sampled scenes keep >= 3 cm
    # between footprints; on 100 of them no two objects merged).
    merge_distance: float = 0.035

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
        edges = []
        for dv, du in ((0, 1), (1, 0)):
            a = fg[: h - dv, : w - du] & fg[dv:, du:]
            near = np.linalg.norm(pts[: h - dv, : w - du] - pts[dv:, du:], axis=2) < self.link_distance
            same = np.abs(chroma[: h - dv, : w - du] - chroma[dv:, du:]).sum(axis=2) < self.link_chroma
            ok = a & near & same
            src = (vs[: h - dv, : w - du] * w + us[: h - dv, : w - du])[ok]
            dst = (vs[dv:, du:] * w + us[dv:, du:])[ok]
            edges.append((src, dst))
        labels = self._compact(_components(fg.ravel(), edges))
        return self._merge_pieces(labels, pts.reshape(-1, 3), chroma.reshape(-1, 3)).reshape(h, w)

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
                if gap < self.merge_distance:
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
