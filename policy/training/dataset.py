"""Demonstration data: the parquet schema ``collect`` writes and the batches training reads.

One parquet file per episode (``episode_000042.parquet``), one row per control step:

    episode   int64          episode index (even seeds; the file name repeats it)
    step      int64          control step in the episode
    image     binary         PNG of the front camera (H, W, 3) uint8
    state     list<float32>  (8,) ee xyz m, ee rpy rad, gripper opening 0..1
    prompts   list<string>   instruction + dialogue variants (paraphrases, clarified forms)
    reasoning string         tagged chain of thought from sim truth (policy.model.cot_format)
    actions   list<float32>  (chunk * 7,) the expert's next ``chunk`` actions, flattened
    task      string         task kind: pick | place_in | place_on ...

A :class:`DemoDataset` item picks one prompt variant at random, so paraphrases and dialogue
forms are all trained on; in an episode whose target (or place) has a visible same-named twin
only the variants that name a side ('on the left', 'A: the right one') are drawn: the others
cannot say which twin the TARGET box is (most twin rows were trained on such words, and the
policy learned to ignore the person's answer), and the TASK line restates the side
(``restate_side``, for demos recorded before ``collect`` wrote it). With ``stale_prob`` > 0 an
item may carry the reasoning of an earlier step of its episode (up to ``max_lag`` steps back)
with the token loss switched off: at run time the reasoning is reused for several chunks
(Fast-ECoT), so the action head must learn to act on slightly old reasoning and read the
current phase from the image and state. ``stale_from_start``
of those stale rows take the episode's first step instead: the TARGET box where the object stood
when it was named, which is what a steered run (the agent's, ``eval --steer truth``) keeps
feeding while the object is carried; a geometry head with hand offsets (policy/model/geometry.py) must
not be thrown by that TARGET once the object is in the hand.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from policy.model.config import PolicyConfig
from policy.model.cot_format import has_twin, move_phase, named_side, names_a_side, parse_reasoning, side_phrase
from policy.model.geometry import CameraCalibration, reasoning_geometry
from policy.model.normalize import NormStats
from policy.model.pixels import image_to_tensor
from policy.model.tokenizer import EncodedExample, encode_example

EPISODE_GLOB = "episode_*.parquet"
#: Calibration of the camera a demo folder was recorded with (``collect`` writes it).
CAMERA_FILE = "camera.json"


def episode_path(folder: str | Path, episode: int) -> Path:
    return Path(folder) / f"episode_{episode:06d}.parquet"


def list_episode_files(folder: str | Path) -> list[Path]:
    files = sorted(Path(folder).glob(EPISODE_GLOB))
    if not files:
        raise FileNotFoundError(f"no {EPISODE_GLOB} files in {folder}; run `python main.py collect` first")
    return files


def demo_folders(folders: str | Path) -> list[str]:
    """One demo folder or several, comma-separated -> the folder names."""
    return [part.strip() for part in str(folders).split(",") if part.strip()]


def episode_files(folders: str | Path) -> list[Path]:
    """Episode files of one folder or several (comma-separated), folder by folder."""
    return [f for part in demo_folders(folders) for f in list_episode_files(part)]


def write_demo_camera(folder: str | Path, camera: CameraCalibration) -> None:
    """Record ``camera`` as the calibration of the demos in ``folder``; a folder already
    recorded with another camera is refused (one folder, one camera)."""
    path = Path(folder) / CAMERA_FILE
    if path.exists():
        if load_demo_camera(folder) != camera:
            raise ValueError(f"{folder} holds demos recorded with another camera ({path}); collect into a new folder")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(camera.to_dict(), indent=1))
    tmp.rename(path)


def load_demo_camera(folders: str | Path) -> CameraCalibration:
    """The camera calibration of one demo folder or several (comma-separated, all the same)."""
    cameras = []
    for part in demo_folders(folders):
        path = Path(part) / CAMERA_FILE
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: these demos carry no camera calibration; run "
                                    f"`python main.py collect --out {part}` (it writes the file and skips the "
                                    "episodes already recorded)")
        try:
            cameras.append(CameraCalibration.from_dict(json.loads(path.read_text())))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path} is not a camera calibration: {exc}") from exc
    if not cameras:
        raise ValueError(f"no demo folder named in {folders!r}")
    if any(c != cameras[0] for c in cameras[1:]):
        raise ValueError(f"the demo folders {folders!r} were recorded with different cameras")
    return cameras[0]


@dataclass
class DemoTable:
    """All rows of a demo folder as columns (images stay PNG-compressed)."""

    episode: np.ndarray  # (N,) int
    images: list[bytes]
    state: np.ndarray  # (N, 8) float32
    prompts: list[list[str]]
    reasoning: list[str]
    actions: np.ndarray  # (N, chunk, 7) float32
    task: list[str]

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, mask: np.ndarray) -> "DemoTable":
        idx = np.flatnonzero(mask)
        return DemoTable(
            episode=self.episode[idx],
            images=[self.images[i] for i in idx],
            state=self.state[idx],
            prompts=[self.prompts[i] for i in idx],
            reasoning=[self.reasoning[i] for i in idx],
            actions=self.actions[idx],
            task=[self.task[i] for i in idx],
        )


def load_demos(folder: str | Path, action_dim: int = 7) -> DemoTable:
    """Read every episode file of ``folder`` (several folders: comma-separated)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = episode_files(folder)
    table = pa.concat_tables([pq.read_table(f) for f in files])
    cols = table.to_pydict()
    actions = np.asarray(cols["actions"], dtype=np.float32)
    return DemoTable(
        episode=np.asarray(cols["episode"], dtype=np.int64),
        images=cols["image"],
        state=np.asarray(cols["state"], dtype=np.float32),
        prompts=cols["prompts"],
        reasoning=cols["reasoning"],
        actions=actions.reshape(len(actions), -1, action_dim),
        task=cols["task"],
    )


def split_held_out(table: DemoTable, fraction: float) -> tuple[DemoTable, DemoTable]:
    """(train, held out): the last ``fraction`` of episodes (at least one when there are two) is held out."""
    episodes = np.unique(table.episode)
    n_eval = max(1, int(round(len(episodes) * fraction))) if len(episodes) > 1 else 0
    held = set(episodes[len(episodes) - n_eval :].tolist())
    is_eval = np.isin(table.episode, list(held))
    return table.subset(~is_eval), table.subset(is_eval)


def pack_episodes(sources: str, out: str | Path, *, stride: int = 1, max_rows: Optional[int] = None,
                  rows_per_file: int = 20000, webp: bool = True) -> dict:
    """Repack episode folders (comma-separated) into a few large zstd parquet files.

    Thousands of small per-episode files are mostly parquet overhead; packed, with images
    re-encoded as lossless WebP (exactly the same pixels, about half of PNG's bytes), a data
    set fits the 64 MiB a GPU call can carry. ``stride`` keeps every k-th step of each episode
    (always its first); ``max_rows`` stops after that many rows (whole episodes). The result
    reads with :func:`load_demos` like any demo folder. Returns counts and bytes.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = episode_files(sources)
    try:
        write_demo_camera(out, load_demo_camera(sources))
    except FileNotFoundError:
        pass  # demos recorded before calibrations were kept: packed without one
    pending: list = []
    written, rows, episodes, part_no = 0, 0, 0, 0

    def flush() -> None:
        nonlocal pending, written, part_no
        if pending:
            path = out / f"episode_pack{part_no:03d}.parquet"
            pq.write_table(pa.concat_tables(pending), path, compression="zstd", compression_level=9)
            written += path.stat().st_size
            pending, part_no = [], part_no + 1

    for f in files:
        table = pq.read_table(f)
        keep = np.flatnonzero(np.asarray(table.column("step")) % stride == 0)
        table = table.take(pa.array(keep))
        if max_rows is not None and rows + len(table) > max_rows:
            break
        if webp:
            images = [reencode_webp(b) for b in table.column("image").to_pylist()]
            table = table.set_column(table.schema.get_field_index("image"), "image", pa.array(images, pa.binary()))
        pending.append(table)
        rows += len(table)
        episodes += 1
        if sum(map(len, pending)) >= rows_per_file:
            flush()
    flush()
    return {"episodes": episodes, "rows": rows, "files": part_no, "bytes": written}


def reencode_webp(data: bytes) -> bytes:
    """Any PIL-readable image -> lossless WebP bytes (identical pixels)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(buf, format="WEBP", lossless=True, quality=50, method=2)
    return buf.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    """Decode a stored frame (PNG, or lossless WebP from :func:`pack_episodes`) to (H, W, 3) uint8."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@dataclass
class Batch:
    """Padded training batch (B rows, L tokens, C chunk)."""

    input_ids: torch.Tensor  # (B, L) long
    token_type_ids: torch.Tensor  # (B, L) long, 0 prefix / 1 suffix
    attention_mask: torch.Tensor  # (B, L) long, 0 on right padding
    loss_mask: torch.Tensor  # (B, L) bool, tokens scored by the LM loss
    action_mask: torch.Tensor  # (B, L) bool, the C action-query positions per row
    pixel_values: torch.Tensor  # (B, 3, S, S)
    state: torch.Tensor  # (B, 8) normalised
    actions: torch.Tensor  # (B, C, 7) normalised targets
    geometry: torch.Tensor  # (B, geometry_dim) boxes of each row's reasoning (policy/model/geometry.py)


class DemoDataset(torch.utils.data.Dataset):
    """Rows of a DemoTable, tokenised on the fly with a random prompt variant."""

    def __init__(self, table: DemoTable, tokenizer, config: PolicyConfig, stats: NormStats, seed: int = 0,
                 stale_prob: float = 0.0, max_lag: int = 24, stale_from_start: float = 0.0):
        if table.actions.shape[1] < config.chunk_size:
            raise ValueError(f"demos hold chunks of {table.actions.shape[1]}, the config wants {config.chunk_size}")
        self.table = table
        self.tokenizer = tokenizer
        self.config = config
        self.stats = stats
        self.rng = np.random.default_rng(seed)
        self.stale_prob = stale_prob
        self.max_lag = max_lag
        self.stale_from_start = stale_from_start
        # Row index of each row's episode start (rows of an episode are stored in step order).
        starts = np.r_[0, np.flatnonzero(np.diff(table.episode)) + 1]
        self.episode_start = np.repeat(starts, np.diff(np.r_[starts, len(table.episode)]))
        self.prompts = {int(s): pinned_prompts(table.prompts[s], table.reasoning[s])
                        for s in starts[starts < len(table)]}
        self.twin_side = {s: side_of_target(prompts, table.reasoning[s]) for s, prompts in self.prompts.items()}

    def __len__(self) -> int:
        return len(self.table)

    def sampling_weights(self, scene_balance: float, phase_balance: float = 0.0) -> np.ndarray:
        """Per-row weights: ``scene_balance`` of the mass spread evenly over episodes
        (scenes), so many short scene-only episodes are not drowned out; then ``phase_balance``
        of it spread evenly over motion phases (the MOVE field's first word: approach, carry,
        ...), so the few carry rows of each place episode weigh as much as the many approach rows."""
        weights = scene_balance * _even_over_groups(self.table.episode) + (1.0 - scene_balance)
        if phase_balance > 0:
            per_phase = _even_over_groups(motion_phases(self.table.reasoning))
            weights = weights * (phase_balance * per_phase + (1.0 - phase_balance))
        return weights

    def __getitem__(self, i: int) -> dict:
        t, cfg = self.table, self.config
        prompts = self.prompts[int(self.episode_start[i])]
        prompt = prompts[int(self.rng.integers(len(prompts)))]
        source, stale = i, False
        if self.stale_prob > 0 and i > self.episode_start[i] and self.rng.random() < self.stale_prob:
            lag = int(self.rng.integers(1, self.max_lag + 1))
            source, stale = max(int(self.episode_start[i]), i - lag), True
            if self.stale_from_start > 0 and self.rng.random() < self.stale_from_start:
                source = int(self.episode_start[i])
        side = self.twin_side[int(self.episode_start[i])]
        reasoning = restate_side(t.reasoning[source], side)
        enc = encode_example(self.tokenizer, cfg.num_image_tokens, prompt, reasoning, state_token=cfg.state_token)
        if stale:  # old reasoning conditions the actions but is not a text target
            enc = EncodedExample(enc.input_ids, enc.token_type_ids, [0] * len(enc.loss_mask))
        return {
            "enc": enc,
            "pixels": image_to_tensor(decode_png(t.images[i]), cfg.image_size),
            "state": torch.from_numpy(self.stats.normalize_state(t.state[i])),
            "actions": torch.from_numpy(self.stats.normalize_action(t.actions[i, : cfg.chunk_size])),
            # The boxes of the reasoning these actions condition on (the stale one when stale).
            # With a camera, also their offsets from the hand in THIS row's state.
            "geometry": torch.from_numpy(reasoning_geometry(parse_reasoning(reasoning), t.state[i],
                                                            cfg.geometry_camera)),
        }


def pinned_prompts(prompts: list[str], reasoning: str) -> list[str]:
    """The prompt variants of an episode that say which object its reasoning acts on: all of
    them, or, when the target or place has a visible same-named twin, those that name a side
    (all of them again if none does)."""
    if not has_twin(parse_reasoning(reasoning)):
        return list(prompts)
    return [p for p in prompts if names_a_side(p)] or list(prompts)


def side_of_target(prompts: list[str], reasoning: str) -> Optional[str]:
    """The side word ('left', 'right', 'front', 'back') when the episode's TARGET has a visible
    same-named twin and its prompts say which one it is; else None."""
    truth = parse_reasoning(reasoning)
    if truth.target is None or [o.name for o in truth.visible].count(truth.target.name) < 2:
        return None
    sides = {side for p in prompts if (side := named_side(p))}
    return sides.pop() if len(sides) == 1 else None


def restate_side(reasoning: str, side: Optional[str]) -> str:
    """The TASK line with the twin's side after the target's name, as ``collect`` now writes it
    ('TASK: pick up the red cube on the left'); demos recorded before lack it. Unchanged when
    ``side`` is None or the TASK already names one."""
    if side is None:
        return reasoning
    head, sep, rest = reasoning.partition("TASK:")
    line, newline, tail = rest.partition("\n")
    target = parse_reasoning(reasoning).target
    if not sep or target is None or names_a_side(line) or f"the {target.name}" not in line:
        return reasoning
    line = line.replace(f"the {target.name}", f"the {target.name} {side_phrase(side)}", 1)
    return head + sep + line + newline + tail


def _even_over_groups(labels: np.ndarray) -> np.ndarray:
    """Per-row weights (mean 1) that give every distinct label the same total weight."""
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return (1.0 / counts[inverse]) * len(inverse) / len(counts)


def motion_phases(reasonings: list[str]) -> np.ndarray:
    """The motion phase of each row: the first word of its MOVE field ('' when there is none)."""
    return np.asarray([move_phase(r) for r in reasonings])


def phase_balanced_rows(table: DemoTable, rows_per_phase: int, seed: int = 0,
                        phases: Optional[Sequence[str]] = None) -> np.ndarray:
    """Sorted row indices: up to ``rows_per_phase`` from each motion phase, drawn without
    replacement in the order of ``phases`` (default: every phase present, alphabetically)."""
    row_phases = motion_phases(table.reasoning)
    rng = np.random.default_rng(seed)
    picked = []
    for phase in np.unique(row_phases) if phases is None else phases:
        idx = np.flatnonzero(row_phases == phase)
        if len(idx):
            picked.append(rng.choice(idx, min(rows_per_phase, len(idx)), replace=False))
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)


def collate(items: list[dict], config: PolicyConfig) -> Batch:
    """Right-pad to the longest row; the C action queries follow each row's <eos>."""
    C = config.chunk_size
    length = max(len(it["enc"].input_ids) for it in items) + C
    B = len(items)
    ids = torch.full((B, length), config.pad_token_id, dtype=torch.long)
    types = torch.ones((B, length), dtype=torch.long)
    attn = torch.zeros((B, length), dtype=torch.long)
    loss = torch.zeros((B, length), dtype=torch.bool)
    act = torch.zeros((B, length), dtype=torch.bool)
    for r, it in enumerate(items):
        enc = it["enc"]
        n = len(enc.input_ids)
        ids[r, :n] = torch.tensor(enc.input_ids)
        types[r, :n] = torch.tensor(enc.token_type_ids)
        loss[r, :n] = torch.tensor(enc.loss_mask, dtype=torch.bool)
        attn[r, : n + C] = 1
        act[r, n : n + C] = True
    return Batch(
        input_ids=ids,
        token_type_ids=types,
        attention_mask=attn,
        loss_mask=loss,
        action_mask=act,
        pixel_values=torch.stack([it["pixels"] for it in items]),
        state=torch.stack([it["state"] for it in items]),
        actions=torch.stack([it["actions"] for it in items]),
        geometry=torch.stack([it["geometry"] for it in items]),
    )
