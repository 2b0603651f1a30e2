"""`python main.py dagger`: rows from the states a policy drives the arm into, labelled by the expert.

Imitation on the expert's own episodes never shows the policy the states its own mistakes lead
to (DAgger, Ross et al. 2011). Traced on the held-out seeds, the embedded policy's action head
opens the hand during a reused chunk whose reasoning still says "close" or "lift", with the
object in the air, a state no demonstration has.

Here the checkpoint drives each episode (the runtime's defaults, as in ``eval``), and every
``--stride``-th step is written as a demo row: the camera image and proprio state it saw, the
chain of thought its chunk read (the policy's own, possibly stale or wrong), and as the target
chunk what the privileged expert would do from that state (``ScriptedExpert(take_over=True)``:
holding the object it lifts on, otherwise it opens and approaches). Rows use the demo schema
(``policy/training/dataset.py``), one parquet file per episode, resumable; seeds are even, as in
``collect`` (``--start`` keeps them apart from the demos' episode indices).

With ``--reasoning truth`` a row is written only where the expert's phase obeys the phase table
the demos and the runtime's gate follow (``policy/inference/phase_gate.py``). That leaves out the missed
grasps: the hand closed on nothing and the expert reopening it to approach again, "approach"
with a closed hand. Unfiltered they were a fifth of the truth rows, and a full fine-tune on
them taught the network to write that pairing (the phase gate then fired 54 times in 90
episodes instead of 6).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from agent.commands.collect import DEFAULT_KINDS
    from policy.inference.rules import RENAME_MODES

    parser.add_argument("--checkpoint", required=True, help="the policy that drives the arm")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--start", type=int, default=500000, help="first episode index (seed 2 * index)")
    parser.add_argument("--out", default="data/dagger")
    parser.add_argument("--kinds", default=DEFAULT_KINDS)
    parser.add_argument("--n-objects", type=int, default=4)
    parser.add_argument("--twin-prob", type=float, default=0.25)
    parser.add_argument("--max-steps", type=int, default=160)
    parser.add_argument("--stride", type=int, default=2, help="write every this many visited steps")
    parser.add_argument("--reasoning", choices=("policy", "truth"), default="policy",
                        help="the chain of thought written into each row: the one the policy's chunk read, "
                             "or the simulator-truth one collect writes for the expert's phase there "
                             "(only rows whose phase the gripper allows, policy/inference/phase_gate.py)")
    parser.add_argument("--rename", choices=RENAME_MODES, default="every",
                        help="whether the driving policy's object namer renames what its network lists "
                             "(the namer rule, policy/inference/rules.py); 'off' drives with the network's own words")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=None, help="stop after this many seconds")


def record_rollout(env: Any, runtime: Any, spec: Any, max_steps: int, stride: int,
                   reasoning: str = "policy") -> dict[str, list]:
    """Drive one episode with ``runtime``; the visited rows, labelled by the take-over expert
    (``reasoning``: 'policy' or 'truth', see ``--reasoning``)."""
    import numpy as np

    from agent.commands.collect import _png, project_boxes
    from policy.model.cot_format import format_reasoning
    from policy.training.instructions import TaskWords, eval_prompt, prompt_variants, truth_reasoning
    from policy.inference.phase_gate import obeys_phase_table
    from sim.expert import ScriptedExpert

    obs, _ = env.reset(seed=spec.seed, options={"scene": spec.scene, "task": spec.task})
    runtime.reset()
    words = TaskWords(pick=spec.task.pick, place=spec.task.place, relation=spec.task.relation)
    instruction, dialogue = eval_prompt(spec.scene, words)
    prompts = prompt_variants(spec.scene, words, np.random.default_rng(spec.seed + 1))
    chunk_size = runtime.config.chunk_size
    box_camera = runtime.config.geometry_camera or env.camera  # the policy's own box convention
    rows: dict[str, list] = {k: [] for k in ("image", "state", "reasoning", "actions")}
    steps, done = 0, False
    while steps < max_steps and not done:
        chunk = runtime.predict_chunk(obs, instruction, dialogue)
        for action in chunk.actions[: runtime.execute_steps]:
            if steps % stride == 0:
                expert = ScriptedExpert(spec.task, spec.scene, chunk_size=chunk_size, take_over=True)
                poses = env.object_poses()
                expert.begin(obs["state"], poses)
                phase = expert.phase
                label = expert.next_actions(obs["state"], poses)
                if reasoning == "truth":
                    boxes = project_boxes(spec.scene, {k: p.position for k, p in poses.items()}, box_camera)
                    text = format_reasoning(truth_reasoning(spec.scene, words, boxes, phase, label))
                else:
                    text = chunk.reasoning_text
                if reasoning == "policy" or obeys_phase_table(text, obs["state"]):
                    rows["image"].append(_png(obs["rgb"]))
                    rows["state"].append(np.asarray(obs["state"], dtype=np.float32).tolist())
                    rows["reasoning"].append(text)
                    rows["actions"].append(label.reshape(-1).tolist())
            obs, _, terminated, truncated, _ = env.step(action)
            steps += 1
            done = bool(terminated or truncated)
            if done or steps >= max_steps:
                break
    n = len(rows["state"])
    return {"episode": [spec.index] * n, "step": list(range(n)), **{k: rows[k] for k in ("image", "state")},
            "prompts": [prompts] * n, "reasoning": rows["reasoning"], "actions": rows["actions"],
            "task": [spec.task.kind] * n}


def run(args: argparse.Namespace) -> int:
    import torch

    from agent.commands.collect import pending_episodes, write_episode
    from policy.model.checkpoint import load_checkpoint
    from policy.training.dataset import write_demo_camera
    from policy.inference.rules import RuleSet
    from policy.inference.runtime import RuntimeSettings, VLARuntime
    from sim.tabletop_env import TabletopEnv

    torch.set_num_threads(args.threads)
    policy = load_checkpoint(args.checkpoint)
    runtime = VLARuntime(policy, RuntimeSettings(rules=RuleSet.all().renaming(args.rename)))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = TabletopEnv(image_size=policy.config.image_size, n_objects=args.n_objects, max_episode_steps=args.max_steps)
    # Rows in the policy's own box convention (the camera its demos were recorded with), so
    # they train beside those demos; a policy without one gets the env's camera.
    write_demo_camera(out, policy.config.geometry_camera or env.camera)
    written = rows = 0
    try:
        for path, spec in pending_episodes(args, out, "dagger"):
            cols = record_rollout(env, runtime, spec, args.max_steps, args.stride, args.reasoning)
            write_episode(path, cols)
            written, rows = written + 1, rows + len(cols["step"])
    finally:
        env.close()
    print(f"wrote {written} episodes ({rows} rows) -> {out}")
    return 0
