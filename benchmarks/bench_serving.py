"""Serving overhead and concurrency: ``main.py serve`` over loopback vs the in-process runtime.

    python -m benchmarks.bench_serving [--checkpoint checkpoints/vla] [--calls 24] [--json out.json]

The server runs as a subprocess (``main.py serve`` on 127.0.0.1); clients are threads of this
process, each its own session, each sending the same ``--calls`` requests (random 96 px frames,
one steered instruction, so the runtime's reasoning reuse runs as in a motion: a chain of
thought every ``replan_every`` calls, one forward otherwise). Reported:

1. overhead: median per-call time at 1 client over the websocket vs the same calls on an
   in-process ``VLARuntime`` (ms, and their ratio), and the serving cost alone: the median of
   each call's round trip minus the server's own inference time (socket, msgpack, queue);
2. p50 / p99 per call (ms) and aggregate calls/s at 1, 2, 4, 8 clients, on a batching server
   (``--max-batch 8``: concurrent calls run as one batched pass, ``serving/batched_inference.py``)
   and on an unbatched one (``--max-batch 1``: one call after another), in the same run;
3. the batched / unbatched throughput ratio at 8 clients.

Every wait is bounded (client timeouts, a server start timeout). Wall-clock numbers move with
the load on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "put the red cube in the green bowl"
STEER = {"target": [0.30, 0.40, 0.40, 0.50], "place": [0.55, 0.45, 0.75, 0.60], "snap_iou": None, "snap_place": True}


def observations(n: int, size: int, seed: int = 0) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [{"rgb": rng.integers(0, 255, (size, size, 3), dtype=np.uint8),
             "state": rng.normal(scale=0.1, size=8).astype(np.float32)} for _ in range(n)]


def in_process_runtime(checkpoint: str) -> Any:
    from policy.model.checkpoint import load_checkpoint
    from policy.inference.rules import RuleSet
    from policy.inference.runtime import RuntimeSettings, VLARuntime

    runtime = VLARuntime(load_checkpoint(checkpoint), RuntimeSettings(rules=RuleSet.all().steered()))
    runtime.steer(tuple(STEER["target"]), tuple(STEER["place"]))
    runtime.predict_chunk(observations(1, runtime.config.image_size, seed=99)[0], PROMPT)  # warm-up
    return runtime


def in_process_ms(runtime: Any, obs: list[dict[str, np.ndarray]]) -> list[float]:
    """The same calls as one remote client makes, on a runtime in this process (ms each)."""
    runtime.reset()
    runtime.steer(tuple(STEER["target"]), tuple(STEER["place"]))
    times = []
    for o in obs:
        start = time.perf_counter()
        runtime.predict_chunk(o, PROMPT)
        times.append(1000.0 * (time.perf_counter() - start))
    return times


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``main.py serve`` in a subprocess, up once /healthz answers (at most ``start_s``)."""

    def __init__(self, checkpoint: str, max_batch: int, batch_wait_ms: float, threads: int,
                 start_s: float = 120.0) -> None:
        self.port = free_port()
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}  # as many torch threads as the in-process run
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "serve", "--checkpoint", checkpoint,
                                      "--port", str(self.port), "--max-batch", str(max_batch),
                                      "--batch-wait-ms", str(batch_wait_ms)],
                                     cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + start_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read().decode()[-500:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"server not up after {start_s} s")

    @property
    def uri(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def drive(uri: str, clients: int, obs: list[dict[str, np.ndarray]], warmup: int = 2) -> dict[str, Any]:
    """``clients`` threads, each its own session sending every observation once; per-call ms."""
    from serving.client import PolicyClient

    def request(o: dict[str, np.ndarray], session: str, first: bool) -> dict[str, Any]:
        r = {"observation/image": o["rgb"], "observation/state": o["state"], "prompt": PROMPT,
             "session_id": session, "reset": first}
        if first:
            r["steer"] = STEER
        return r

    conns = [PolicyClient(uri, timeout_s=60) for _ in range(clients)]
    for i, c in enumerate(conns):  # warm-up: connect and run the first calls once
        for k, o in enumerate(obs[:warmup]):
            c.infer(request(o, f"warm-{i}", k == 0))
    times: list[list[float]] = [[] for _ in range(clients)]
    batch: list[int] = []
    wire: list[float] = []  # per call: client round trip minus the server's inference time (ms)
    barrier = threading.Barrier(clients)

    def run(i: int) -> None:
        barrier.wait(timeout=60)
        for k, o in enumerate(obs):
            start = time.perf_counter()
            reply = conns[i].infer(request(o, f"client-{i}", k == 0))
            times[i].append(1000.0 * (time.perf_counter() - start))
            batch.append(int(reply["server_timing"].get("batch_size", 1)))
            wire.append(times[i][-1] - float(reply["server_timing"].get("infer_ms", 0.0)))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    wall = time.perf_counter() - start
    for c in conns:
        c.close()
    flat = [t for ts in times for t in ts]
    return {"clients": clients, "times_ms": flat, "wall_s": wall, "batch": batch, "wire_ms": wire}


def pooled(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """p50 / p99 over every call of the rounds; calls/s over their summed wall time."""
    flat = np.array([t for r in rounds for t in r["times_ms"]])
    return {"clients": rounds[0]["clients"], "calls": int(flat.size), "rounds": len(rounds),
            "p50_ms": float(np.percentile(flat, 50)), "p99_ms": float(np.percentile(flat, 99)),
            "mean_ms": float(flat.mean()), "throughput_per_s": float(flat.size / sum(r["wall_s"] for r in rounds)),
            "mean_batch": float(np.mean([b for r in rounds for b in r["batch"]])),
            "wire_p50_ms": float(np.median([w for r in rounds for w in r["wire_ms"]]))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "vla"))
    parser.add_argument("--calls", type=int, default=16, help="timed calls per client")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per client count, variants alternating")
    parser.add_argument("--threads", type=int, default=1, help="torch threads, here and in the server")
    parser.add_argument("--batch-wait-ms", type=float, default=5.0)
    parser.add_argument("--max-clients", type=int, default=8, help="largest client count (1, 2, 4, 8)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    image_size = json.loads((Path(args.checkpoint) / "config.json").read_text())["policy"]["image_size"]
    obs = observations(args.calls, image_size)
    runtime = in_process_runtime(args.checkpoint)
    results: dict[str, Any] = {"calls_per_client": args.calls, "image_size": image_size, "threads": args.threads,
                               "batch_wait_ms": args.batch_wait_ms}
    clients = [n for n in (1, 2, 4, 8) if n <= args.max_clients]
    # Both servers stay up; every client count runs rounds that alternate batched / unbatched
    # (and, at 1 client, the in-process runtime), so a change in the machine's load hits all alike.
    batched = Server(args.checkpoint, max_batch=8, batch_wait_ms=args.batch_wait_ms, threads=args.threads)
    unbatched = Server(args.checkpoint, max_batch=1, batch_wait_ms=0.0, threads=args.threads)
    local: list[float] = []
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {"batched": {}, "unbatched": {}}
    try:
        for n in clients:
            for _ in range(args.rounds):
                if n == 1:
                    local.extend(in_process_ms(runtime, obs))
                for name, server in (("batched", batched), ("unbatched", unbatched)):
                    runs[name].setdefault(n, []).append(drive(server.uri, n, obs))
    finally:
        batched.stop()
        unbatched.stop()
    local_ms = np.array(local)
    results["in_process"] = {"p50_ms": float(np.median(local_ms)), "p99_ms": float(np.percentile(local_ms, 99)),
                             "mean_ms": float(local_ms.mean()), "calls": int(local_ms.size)}
    for name in ("batched", "unbatched"):
        results[name] = [pooled(runs[name][n]) for n in clients]
    ones = runs["batched"][1]
    one = results["batched"][0]
    results["one_client_p50_per_round_ms"] = [float(np.median(r["times_ms"])) for r in ones]
    results["overhead_ms"] = one["p50_ms"] - results["in_process"]["p50_ms"]
    results["overhead_ratio"] = one["p50_ms"] / results["in_process"]["p50_ms"]
    # The serving cost alone (socket, msgpack, queue, hand-off), free of the compute's load noise.
    results["wire_overhead_ratio"] = 1.0 + one["wire_p50_ms"] / results["in_process"]["p50_ms"]
    results["batched_vs_unbatched"] = {str(b["clients"]): b["throughput_per_s"] / u["throughput_per_s"]
                                       for b, u in zip(results["batched"], results["unbatched"])}
    rate = lambda r: len(r["times_ms"]) / r["wall_s"]  # noqa: E731
    results["batched_vs_unbatched_per_round"] = {str(n): [rate(b) / rate(u) for b, u in
                                                          zip(runs["batched"][n], runs["unbatched"][n])] for n in clients}

    print(f"in-process      p50 {results['in_process']['p50_ms']:7.1f} ms   p99 {results['in_process']['p99_ms']:7.1f} ms")
    print(f"loopback 1 cl.  p50 {one['p50_ms']:7.1f} ms   overhead {results['overhead_ms']:+.1f} ms "
          f"(x{results['overhead_ratio']:.2f}); round trip minus server inference p50 {one['wire_p50_ms']:.1f} ms "
          f"(x{results['wire_overhead_ratio']:.2f})")
    print("server     clients  p50 ms  p99 ms  calls/s  mean batch")
    for name in ("batched", "unbatched"):
        for r in results[name]:
            print(f"{name:10s} {r['clients']:7d} {r['p50_ms']:7.1f} {r['p99_ms']:7.1f} {r['throughput_per_s']:8.2f} "
                  f"{r['mean_batch']:10.2f}")
    print("batched / unbatched calls/s: " + ", ".join(f"{n} clients x{v:.2f}"
                                                      for n, v in results["batched_vs_unbatched"].items()))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
