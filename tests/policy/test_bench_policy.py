"""The GPU benchmark's network and LoRA-step timings run on CPU with the tiny geometry.

The lent GPU is drawn by chance and held for minutes, so what it runs must not break on it: a
LoRA step that built its training batch without the action head's geometry field once failed on
the card. This runs the same functions here, small and fast.
"""

import argparse

import torch

from benchmarks.bench_policy import lora_step_benchmark, network_benchmark


def test_reasoning_call_timings_run_on_the_grown_and_the_fixed_size_cache():
    # compile=False: compiling takes ~40 s here; tests/policy/test_decode_cache.py checks that the
    # compiled step writes the same reasoning.
    args = argparse.Namespace(gpu_reasoning_tokens=4, replan_every=4, compile=False)
    result = network_benchmark(args, preset="tiny", device="cpu", dtype=torch.float32)
    assert result["weights"].startswith("RANDOM INIT")
    assert result["reason_call_ms"] > 0 and result["reuse_call_ms"] > 0
    assert result["decode"]["static_reason_call_ms"] > 0
    assert result["speedup"] > 1


def test_lora_step_timing_builds_a_batch_the_loss_accepts():
    args = argparse.Namespace(gpu_reasoning_tokens=4, lora_batches=[2], lora_rank=4)
    result = lora_step_benchmark(args, preset="tiny", device="cpu", dtype=torch.bfloat16)
    (row,) = result["rows"]
    assert "error" not in row
    assert row["batch"] == 2 and row["samples_per_s"] > 0
    assert 0 < result["trainable_fraction"] < 1
