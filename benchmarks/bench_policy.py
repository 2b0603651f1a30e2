"""Policy latency: naive ECoT loop vs the optimised runtime (reasoning reuse + action chunks).

    python -m benchmarks.bench_policy [--checkpoint checkpoints/vla] [--steps 64] [--json out.json]

1. CPU, ``tiny`` checkpoint, real runtime (policy/inference/runtime.py), observations replayed from demo
   parquet files when ``--data`` has them (else random images):
   * naive: full chain of thought + action chunk at EVERY control step, one action executed;
   * optimised: chain of thought every ``--replan-every`` chunks, the other calls one forward,
     every action of a chunk executed from the queue.
   Reported: mean wall-clock latency per executed action (ms) and the ratio naive / optimised.
2. GPU only (skipped without CUDA): the ``paligemma-3b-224`` geometry, RANDOMLY INITIALISED
   (timing only; it says so), bf16, fixed-length reasoning of ``--gpu-reasoning-tokens``
   tokens, same naive / optimised comparison at the network level, plus one LoRA training
   step (policy/model/lora.py adapters, the project's loss) per batch size in ``--lora-batches``:
   samples/s and peak GPU memory.
Wall-clock timings (time.perf_counter) vary with the load on the shared machine.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch


def replay_observations(data: Optional[str], size: int, n: int) -> list[dict[str, Any]]:
    """Observations from demo parquet files (camera image + state), or random ones."""
    if data and list(Path(data).glob("episode_*.parquet")):
        from policy.training.dataset import decode_png, list_episode_files

        import pyarrow.parquet as pq

        rows = pq.read_table(list_episode_files(data)[0], columns=["image", "state"]).to_pydict()
        obs = [{"rgb": decode_png(img), "state": np.asarray(s, np.float32)} for img, s in zip(rows["image"], rows["state"])]
        return [obs[i % len(obs)] for i in range(n)]
    rng = np.random.default_rng(0)
    return [{"rgb": rng.integers(0, 255, (size, size, 3), dtype=np.uint8), "state": rng.normal(size=8).astype(np.float32)}
            for _ in range(n)]


def time_runtime(policy: Any, settings: Any, observations: list[dict], instruction: str) -> dict[str, float]:
    """Serve one action per observation through VLARuntime.select_action; ms per action."""
    from policy.inference.runtime import VLARuntime

    runtime = VLARuntime(policy, settings)
    start = time.perf_counter()
    runtime.select_action(observations[0], instruction)  # warm-up (allocations, first reasoning, compiling)
    warmup = time.perf_counter() - start
    runtime.reset()
    runtime.calls = dict.fromkeys(runtime.calls, 0)
    start = time.perf_counter()
    tokens = []
    for obs in observations:
        out = runtime.select_action(obs, instruction)
        tokens.append(len(out.raw_text.split()))
    total = time.perf_counter() - start
    return {"ms_per_action": 1000.0 * total / len(observations), **{f"{k}_calls": v for k, v in runtime.calls.items()},
            "reasoning_words": float(np.mean(tokens)), "warmup_s": warmup}


def cpu_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    from policy.model.checkpoint import load_checkpoint
    from policy.inference.runtime_settings import NAIVE, RuntimeSettings

    torch.set_num_threads(args.threads)
    policy = load_checkpoint(args.checkpoint)
    obs = replay_observations(args.data, policy.config.image_size, args.steps)
    naive = time_runtime(policy, NAIVE, obs, args.instruction)
    fast = time_runtime(policy, RuntimeSettings(replan_every=args.replan_every), obs, args.instruction)
    # The KV cache the reasoning is decoded on (policy/inference/decode_cache.py), side by side: the naive
    # loop reasons at every action, so its time per action is the reasoning call's.
    decode = {"dynamic": {"naive_ms_per_action": naive["ms_per_action"], "optimised_ms_per_action": fast["ms_per_action"]}}
    for mode in ("static", "compiled") if args.compile else ("static",):
        n = time_runtime(policy, replace(NAIVE, decode=mode), obs, args.instruction)
        f = time_runtime(policy, RuntimeSettings(replan_every=args.replan_every, decode=mode), obs, args.instruction)
        decode[mode] = {"naive_ms_per_action": n["ms_per_action"], "optimised_ms_per_action": f["ms_per_action"],
                        "warmup_s": n["warmup_s"], "naive_vs_dynamic": naive["ms_per_action"] / n["ms_per_action"]}
    return {"device": "cpu", "threads": args.threads, "preset": policy.config.preset, "steps": args.steps,
            "chunk_size": policy.config.chunk_size, "replan_every": args.replan_every,
            "naive": naive, "optimised": fast, "speedup": naive["ms_per_action"] / fast["ms_per_action"],
            "decode": decode}


def random_model_on(cfg: Any, device: str, dtype: torch.dtype, *, warn: bool) -> Any:
    """A randomly initialised VLAModel allocated straight on ``device`` in ``dtype`` (no 12 GB
    CPU copy of the 3B geometry); ``warn`` keeps build_model's loud RANDOM INIT warning."""
    from policy.model.modeling import build_model

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            return build_model(cfg, dtype=dtype, weights_follow=not warn)
    finally:
        torch.set_default_dtype(previous)


@torch.no_grad()
def network_benchmark(args: argparse.Namespace, preset: str = "paligemma-3b-224", device: str = "cuda",
                      dtype: torch.dtype = torch.bfloat16) -> dict[str, Any]:
    """Network-level timing of a geometry (random weights: timing only; the 3B on CUDA)."""
    from transformers import DynamicCache

    from policy.model.config import make_config
    from policy.inference.decode_cache import ReasoningCache

    cfg = make_config(preset, pretrained=None)
    model = random_model_on(cfg, device, dtype, warn=True).eval()
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    T, C = args.gpu_reasoning_tokens, cfg.chunk_size
    prompt = [cfg.bos_token_id] + [300] * 12 + [cfg.state_token_id, 108]
    prefix = torch.tensor([[cfg.image_token_id] * cfg.num_image_tokens + prompt], device=device)
    ptypes = torch.zeros_like(prefix)
    pixels = torch.randn(1, 3, cfg.image_size, cfg.image_size, device=device, dtype=dtype)
    state = torch.randn(1, cfg.state_dim, device=device, dtype=dtype)
    one = torch.ones(1, 1, dtype=torch.long, device=device)

    def reason_and_act() -> None:
        cache = DynamicCache()
        h = model.run_backbone(model.embed(prefix, pixels, state), ptypes, None, cache)
        tok = model.backbone.lm_head(h[:, -1]).argmax(-1, keepdim=True)
        for _ in range(T):
            h = model.run_backbone(model.embed(tok, None, None), one, None, cache)
            tok = model.backbone.lm_head(h[:, -1]).argmax(-1, keepdim=True)
        model.predict_actions_from_cache(cache)

    full = torch.cat([prefix, torch.full((1, T + C), 300, device=device)], 1)
    types = torch.cat([ptypes, torch.ones(1, T + C, dtype=torch.long, device=device)], 1)
    amask = torch.zeros_like(full, dtype=torch.bool)
    amask[0, -C:] = True

    def reuse() -> None:
        model(input_ids=full, token_type_ids=types, pixel_values=pixels, state=state, action_mask=amask, compute_logits=False)

    def timed(fn, n: int) -> float:
        fn()
        sync()
        start = time.perf_counter()
        for _ in range(n):
            fn()
        sync()
        return (time.perf_counter() - start) / n

    def reason_and_act_on(fixed: ReasoningCache, step: Optional[Any] = None, tokens: Optional[list[int]] = None) -> None:
        """The same call decoded on the fixed-size cache (policy/inference/decode_cache.py), one token at a
        time by ``step`` (default: the cache's own, eager or compiled); the greedy tokens are
        appended to ``tokens`` when given (a sync per token, so not when timing)."""
        step = step or fixed.step
        prefilled = DynamicCache()
        h = model.run_backbone(model.embed(prefix, pixels, state), ptypes, None, prefilled)
        cache = fixed.load(prefilled)
        tok = model.backbone.lm_head(h[:, -1]).argmax(-1, keepdim=True)
        for _ in range(T):
            h = step(tok)
            tok = model.backbone.lm_head(h[:, -1]).argmax(-1, keepdim=True)
            if tokens is not None:
                tokens.append(int(tok))
        model.predict_actions_from_cache(cache)

    def tokens_of(fixed: ReasoningCache, step: Optional[Any] = None) -> list[int]:
        written: list[int] = []
        reason_and_act_on(fixed, step, written)
        return written

    t_reason, t_reuse = timed(reason_and_act, 3), timed(reuse, 10)
    print(json.dumps({"partial": "eager", "reason_call_ms": 1000 * t_reason, "reuse_call_ms": 1000 * t_reuse}), flush=True)
    size = ReasoningCache.size_for(cfg, prefix.shape[1])
    static = ReasoningCache(model, size)
    decode: dict[str, Any] = {"static_reason_call_ms": 1000 * timed(lambda: reason_and_act_on(static), 3)}
    print(json.dumps({"partial": "static", **decode}), flush=True)
    if device == "cuda":
        try:
            reason_and_act_on(static)  # the graph is captured on a loaded cache
            start = time.perf_counter()
            graphed = captured_step(model, static)
            decode["graph_capture_s"] = time.perf_counter() - start
            decode["graph_reason_call_ms"] = 1000 * timed(lambda: reason_and_act_on(static, graphed), 5)
            decode["graph_same_tokens_as_eager"] = tokens_of(static, graphed) == tokens_of(static)
        except Exception as exc:  # report, keep the other figures
            decode["graph_error"] = f"{type(exc).__name__}: {exc}"[:500]
        print(json.dumps({"partial": "cuda_graph", **decode}), flush=True)
    if args.compile:
        # The single-token step compiled on the fixed cache (on CUDA: mode="reduce-overhead",
        # CUDA graphs). The first call compiles; reported apart.
        try:
            compiled = ReasoningCache(model, size, compiled=True)
            start = time.perf_counter()
            reason_and_act_on(compiled)
            sync()
            decode["compile_s"] = time.perf_counter() - start
            decode["compiled_reason_call_ms"] = 1000 * timed(lambda: reason_and_act_on(compiled), 5)
            decode["compiled_same_tokens_as_eager"] = tokens_of(compiled) == tokens_of(static)
        except Exception as exc:  # report, do not lose the eager figures
            decode["compiled_error"] = f"{type(exc).__name__}: {exc}"[:500]
    naive_ms = 1000 * t_reason  # one action per full reasoning call
    n = args.replan_every
    fast_ms = 1000 * (t_reason + (n - 1) * t_reuse) / (n * C)
    name = torch.cuda.get_device_name() if device == "cuda" else device
    return {"device": name, "preset": preset, "weights": "RANDOM INIT (timing only)", "dtype": str(dtype), "reasoning_tokens": T, "chunk_size": C, "replan_every": n,
            "reason_call_ms": 1000 * t_reason, "reuse_call_ms": 1000 * t_reuse,
            "naive_ms_per_action": naive_ms, "optimised_ms_per_action": fast_ms, "speedup": naive_ms / fast_ms,
            "decode": decode}


def captured_step(model: Any, fixed: Any) -> Any:
    """The single-token step of ``fixed`` (a loaded ``ReasoningCache``) captured once as a CUDA
    graph by hand (``torch.cuda.CUDAGraph``, no inductor), for replay per token: what
    ``mode="reduce-overhead"`` does, without its compile time. Bench only (the runtime's modes
    are dynamic/static/compiled). The graph reads the cache's tensors in place, so it serves
    every later call that reloads the same cache."""
    first = torch.zeros(1, 1, dtype=torch.long, device=model.action_queries.weight.device)
    static_in = model.embed(first, None, None).clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up outside the capture (allocator, lazy kernels)
        for _ in range(3):
            fixed._eager_step(static_in)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_out = fixed._eager_step(static_in)
    torch.cuda.synchronize()

    def step(token: torch.Tensor) -> torch.Tensor:
        static_in.copy_(model.embed(token, None, None))
        graph.replay()
        return static_out

    return step


def lora_step_benchmark(args: argparse.Namespace, preset: str = "paligemma-3b-224", device: str = "cuda",
                        dtype: torch.dtype = torch.bfloat16) -> dict[str, Any]:
    """One LoRA optimiser step (forward, backward, AdamW) of the big geometry per batch size.

    Random weights (timing/memory only). Each row: 256 image tokens, a 16-token prompt with the
    state token, ``--gpu-reasoning-tokens`` reasoning tokens (scored by the LM loss) and the C
    action queries (L1): the sequence ``python main.py train --lora`` builds.
    """
    from policy.model.config import make_config
    from policy.training.dataset import Batch
    from policy.model.geometry import geometry_dim
    from policy.model.lora import LoraSettings, apply_lora, trainable_fraction
    from policy.training.training import compute_loss

    cfg = make_config(preset, pretrained=None)
    base = random_model_on(cfg, device, dtype, warn=False)
    model = apply_lora(base, LoraSettings(rank=args.lora_rank)).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=1e-4)
    T, C, N = args.gpu_reasoning_tokens, cfg.chunk_size, cfg.num_image_tokens
    cuda = device == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    rows: list[dict[str, Any]] = []
    for B in args.lora_batches:
        prompt = [cfg.bos_token_id] + [300] * 14 + [cfg.state_token_id]
        L = N + len(prompt) + T + C
        ids = torch.full((B, L), 300, dtype=torch.long, device=device)
        ids[:, :N] = cfg.image_token_id
        ids[:, N : N + len(prompt)] = torch.tensor(prompt, device=device)
        types = torch.zeros_like(ids)
        types[:, N + len(prompt) :] = 1
        loss_mask = torch.zeros_like(ids, dtype=torch.bool)
        loss_mask[:, N + len(prompt) : L - C] = True
        act_mask = torch.zeros_like(ids, dtype=torch.bool)
        act_mask[:, L - C :] = True
        batch = Batch(input_ids=ids, token_type_ids=types, attention_mask=torch.ones_like(ids), loss_mask=loss_mask,
                      action_mask=act_mask, pixel_values=torch.randn(B, 3, cfg.image_size, cfg.image_size, device=device),
                      state=torch.randn(B, cfg.state_dim, device=device), actions=torch.randn(B, C, cfg.action_dim, device=device),
                      geometry=torch.zeros(B, geometry_dim(cfg), device=device))

        def step() -> None:
            with torch.autocast(device, dtype=dtype):
                loss = compute_loss(model, batch, 1.0).total
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()

        try:
            step()  # warm-up: allocations, optimiser state
            sync()
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            n = 5
            start = time.perf_counter()
            for _ in range(n):
                step()
            sync()
            dt = (time.perf_counter() - start) / n
            rows.append({"batch": B, "seq_len": L, "step_ms": 1000 * dt, "samples_per_s": B / dt,
                         "peak_mem_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else None})
        except torch.OutOfMemoryError:
            rows.append({"batch": B, "seq_len": L, "error": "out of memory"})
            torch.cuda.empty_cache()
        print(json.dumps(rows[-1]), flush=True)
    return {"device": torch.cuda.get_device_name() if cuda else device, "preset": preset,
            "weights": "RANDOM INIT (timing only)", "dtype": str(dtype), "lora_rank": args.lora_rank, "trainable_fraction": trainable_fraction(model),
            "rows": rows}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="checkpoints/vla")
    parser.add_argument("--data", default="data/demos", help="demo folder to replay observations from")
    parser.add_argument("--steps", type=int, default=64, help="control steps (actions) timed per mode")
    parser.add_argument("--replan-every", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--instruction", default="put the red cube in the green bowl")
    parser.add_argument("--gpu-reasoning-tokens", type=int, default=64)
    parser.add_argument("--lora-batches", type=int, nargs="+", default=[4, 8, 16, 32])
    parser.add_argument("--lora-rank", type=int, default=16)
    parser.add_argument("--skip-cpu", action="store_true")
    parser.add_argument("--skip-lora", action="store_true")
    parser.add_argument("--compile", action="store_true",
                        help="also time the reasoning decoded by a compiled single-token step on the fixed-size "
                             "KV cache (RuntimeSettings.decode='compiled'; CUDA graphs on a GPU)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    if not args.skip_cpu:
        results["cpu_embedded"] = cpu_benchmark(args)
    if torch.cuda.is_available():
        results["gpu_paligemma_3b_224"] = network_benchmark(args)
        print(json.dumps(results["gpu_paligemma_3b_224"]), flush=True)
        torch.cuda.empty_cache()
        if not args.skip_lora:
            results["gpu_paligemma_3b_224_lora_step"] = lora_step_benchmark(args)
    else:
        results["gpu_paligemma_3b_224"] = "skipped: no CUDA device"
    print(json.dumps(results, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
