"""`python main.py collect`: record scripted-expert demonstrations for policy training.

Each episode ``i`` uses seed ``2 * i`` (even seeds; ``eval`` uses odd ones): a sampled scene
and feasible task (kinds cycle through ``--kinds``; with ``--twin-prob`` a bystander becomes a
same-colour, same-shape twin of the picked object so clarifying dialogues have something to
resolve), run closed-loop by the privileged expert in TabletopEnv. One parquet file per
successful episode (schema in ``policy/training/dataset.py``); existing files are skipped, so an
interrupted run resumes. Failed expert episodes are listed in ``failed.txt`` and not retried.
"""

from __future__ import annotations

import argparse
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import numpy as np

DEFAULT_KINDS = "pick,place_in,place_on"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from agent.ray_pool import add_ray_argument

    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--out", default="data/demos")
    parser.add_argument("--kinds", default=DEFAULT_KINDS, help="comma-separated task kinds, cycled")
    parser.add_argument("--n-objects", type=int, default=4)
    parser.add_argument("--chunk", type=int, default=8, help="actions per stored chunk")
    parser.add_argument("--twin-prob", type=float, default=0.25)
    parser.add_argument("--post-steps", type=int, default=3, help="steps recorded after success (phase 'done')")
    parser.add_argument("--max-steps", type=int, default=160)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--start", type=int, default=0, help="first episode index (seed 2 * index)")
    parser.add_argument("--first-steps", type=int, default=None,
                        help="record only the first K steps of each episode (many scenes cheaply; "
                             "success not required)")
    parser.add_argument("--time-limit", type=float, default=None, help="stop after this many seconds")
    add_ray_argument(parser)


@dataclass(frozen=True)
class EpisodeSpec:
    """One episode to run: index, seed, scene and task."""

    index: int
    seed: int
    scene: Any  # sim.scene.SceneSpec
    task: Any  # sim.tasks.TaskSpec


def sample_episode(index: int, seed: int, kind: str, n_objects: int, twin_prob: float) -> EpisodeSpec:
    """Scene + feasible task from ``seed`` alone (collect and eval share this)."""
    from sim.task_sampling import is_feasible, sample_scene_and_task

    rng = np.random.default_rng(seed)
    scene, task = sample_scene_and_task(rng, kind, n_objects)
    if rng.random() < twin_prob:
        pick = scene.get(task.pick)
        others = [o for o in scene.objects if o.id not in (task.pick, task.place)]
        if others:
            victim = others[int(rng.integers(len(others)))]
            twin = victim.model_copy(update={"shape": pick.shape, "color": pick.color, "size": pick.size})
            candidate = scene.model_copy(update={"objects": [twin if o.id == victim.id else o for o in scene.objects]})
            if is_feasible(candidate, task):
                scene = candidate
    return EpisodeSpec(index=index, seed=seed, scene=scene, task=task)


def project_boxes(scene: Any, positions: dict[str, np.ndarray], camera: Any) -> dict[str, tuple[float, float, float, float]]:
    """Object id -> normalised (x0, y0, x1, y1) image box of its 3-D bounding box (in-view only)."""
    from sim.objects import object_geometry

    boxes = {}
    for obj in scene.objects:
        g = object_geometry(obj)
        cx, cy, cz = positions[obj.id]
        z0, z1 = (cz, cz + g.height) if obj.shape == "bowl" else (cz - g.height / 2, cz + g.height / 2)
        corners = np.array([[cx + dx, cy + dy, z] for dx in (-g.radius, g.radius) for dy in (-g.radius, g.radius) for z in (z0, z1)])
        uv = camera.project(corners)
        x0, y0 = uv.min(0) / (camera.width, camera.height)
        x1, y1 = uv.max(0) / (camera.width, camera.height)
        if x1 <= 0 or y1 <= 0 or x0 >= 1 or y0 >= 1:
            continue
        boxes[obj.id] = tuple(float(np.clip(v, 0.0, 1.0)) for v in (x0, y0, x1, y1))
    return boxes


def _png(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def chunk_targets(actions: np.ndarray, chunk: int) -> np.ndarray:
    """(T, 7) executed actions -> (T, chunk, 7): each step's next ``chunk`` actions.

    Past the end the arm holds still with the last gripper command.
    """
    T = len(actions)
    hold = np.zeros((chunk, actions.shape[1]), dtype=np.float32)
    hold[:, 6] = actions[-1, 6]
    padded = np.concatenate([actions, hold], axis=0)
    return np.stack([padded[t : t + chunk] for t in range(T)])


def record_episode(env: Any, spec: EpisodeSpec, chunk: int, post_steps: int, max_steps: int,
                   first_steps: Optional[int] = None) -> Optional[dict[str, list]]:
    """Run the expert; returns parquet columns, or None when the expert failed.

    With ``first_steps`` only that many steps are run and kept (success not required); their
    chunk targets come from the expert's own chunk, since the episode does not go on.
    """
    from policy.training.instructions import TaskWords, prompt_variants, truth_reasoning
    from policy.model.cot_format import format_reasoning
    from sim.expert import ScriptedExpert

    obs, info = env.reset(seed=spec.seed, options={"scene": spec.scene, "task": spec.task})
    expert = ScriptedExpert(spec.task, spec.scene, chunk_size=1)
    words = TaskWords(pick=spec.task.pick, place=spec.task.place, relation=spec.task.relation)
    prompts = prompt_variants(spec.scene, words, np.random.default_rng(spec.seed + 1))
    frames, states, phases, actions, positions = [], [], [], [], []
    success_at: Optional[int] = None
    horizon = max_steps + post_steps if first_steps is None else first_steps + chunk
    for t in range(horizon):
        if success_at is not None and t >= success_at + post_steps:
            break
        poses = env.object_poses()
        action = expert.next_actions(obs["state"], poses)[0]
        frames.append(obs["rgb"])
        states.append(np.asarray(obs["state"], dtype=np.float32))
        phases.append("done" if success_at is not None else expert.phase)
        positions.append({k: p.position.copy() for k, p in poses.items()})
        actions.append(action)
        obs, _, terminated, truncated, info = env.step(action)
        if terminated and success_at is None:
            success_at = t + 1
        if truncated and success_at is None and first_steps is None:
            return None
    if success_at is None and first_steps is None:
        return None
    acts = np.asarray(actions, dtype=np.float32)
    chunks = chunk_targets(acts, chunk)
    if first_steps is not None:
        # Keep the first K steps; their chunks are fully inside the recorded K + chunk steps.
        keep = min(first_steps, len(acts))
        frames, states, phases, positions = frames[:keep], states[:keep], phases[:keep], positions[:keep]
        acts, chunks = acts[:keep], chunks[:keep]
    camera = env.camera
    reasoning = [
        format_reasoning(truth_reasoning(spec.scene, words, project_boxes(spec.scene, positions[t], camera), phases[t], chunks[t]))
        for t in range(len(acts))
    ]
    n = len(acts)
    return {
        "episode": [spec.index] * n,
        "step": list(range(n)),
        "image": [_png(f) for f in frames],
        "state": [s.tolist() for s in states],
        "prompts": [prompts] * n,
        "reasoning": reasoning,
        "actions": [c.reshape(-1).tolist() for c in chunks],
        "task": [spec.task.kind] * n,
    }


def write_episode(path: Path, cols: dict[str, list]) -> None:
    """One episode's columns as a parquet file, atomically: a killed run never leaves half an
    episode behind (a resumed run would skip it)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = path.with_suffix(".tmp")
    pq.write_table(pa.table(cols), tmp)
    tmp.rename(path)


def pending_episodes(args: argparse.Namespace, out: Path, desc: str,
                     skip: frozenset[str] = frozenset()) -> Iterator[tuple[Path, EpisodeSpec]]:
    """(file, episode) for each index of ``--start`` .. ``--start + --episodes`` whose file is
    not written yet (nor its index in ``skip``), under a progress bar, until ``--time-limit``.
    Episode ``i`` has seed ``2 * i`` and the ``i``-th task kind of ``--kinds``, cycled."""
    from tqdm import tqdm

    from policy.training.dataset import episode_path

    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    started = time.monotonic()
    for i in tqdm(range(args.start, args.start + args.episodes), desc=desc, unit="ep"):
        if args.time_limit is not None and time.monotonic() - started > args.time_limit:
            print(f"time limit reached after episode {i - 1}")
            return
        path = episode_path(out, i)
        if not path.exists() and str(i) not in skip:
            yield path, sample_episode(i, 2 * i, kinds[i % len(kinds)], args.n_objects, args.twin_prob)


def run(args: argparse.Namespace) -> int:
    from policy.training.dataset import episode_path, write_demo_camera
    from sim.tabletop_env import TabletopEnv

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.ray is not None:  # every episode a Ray task running this command alone (agent/ray_pool.py)
        from agent.ray_pool import fan_out

        fan_out("agent.commands.collect", args)
        present = sum(episode_path(out, i).exists() for i in range(args.start, args.start + args.episodes))
        print(f"{present} of {args.episodes} episodes present in {out} after the Ray run")
        return 0
    failed_file = out / "failed.txt"
    failed = frozenset(failed_file.read_text().split()) if failed_file.exists() else frozenset()
    indices = range(args.start, args.start + args.episodes)
    skipped = sum(episode_path(out, i).exists() or str(i) in failed for i in indices)
    env = TabletopEnv(image_size=args.image_size, n_objects=args.n_objects, max_episode_steps=args.max_steps)
    write_demo_camera(out, env.camera)
    written = 0
    try:
        for path, spec in pending_episodes(args, out, "collect", skip=failed):
            cols = record_episode(env, spec, args.chunk, args.post_steps, args.max_steps, args.first_steps)
            if cols is None:
                with failed_file.open("a") as fh:
                    fh.write(f"{spec.index}\n")
                continue
            write_episode(path, cols)
            written += 1
    finally:
        env.close()
    print(f"wrote {written} episodes, skipped {skipped} already present, {len(failed)} failed before -> {out}")
    return 0
