#!/usr/bin/env bash
# One lent-GPU session (see docs/BENCHMARKS.md): CUDA tests, the 3B reasoning call on every decode
# path, then two trainings of the `small` preset on packed demos, side by side.
#
#   here:  python main.py collect --episodes 450 --start 0 --out data/demos_a      # and --start 450 -> demos_b
#          python main.py collect --episodes 100000 --start 400000 --first-steps 2 --out data/scenes_a --time-limit 480
#          python scripts/pack_demos.py data/demos_a,data/demos_b --out gpu_data/demos --stride 2
#          python scripts/pack_demos.py data/scenes_a,data/scenes_b --out gpu_data/scenes
#          pip download pydantic and its three needs for cp312 into .whl (see the device notes)
#   GPU:   bash scripts/device_run.sh          (results under $OUT, default runs/device)
#          carry: gpu_data .whl
#
# Order matters: the 3B timings run alone on the card, before the trainings start.
# 1. `bench_policy --skip-cpu --skip-lora --compile`: the 3B reasoning call (random weights,
#    bf16, 64 tokens + one chunk) on a grown DynamicCache, on the fixed-size cache eagerly, on
#    that cache with the single-token step captured as a CUDA graph by hand, and compiled with
#    mode="reduce-overhead". Each figure is printed as it comes, so a compile that runs past
#    BENCH_S still leaves the others in the log. Target <= 400 ms (session 2, eager: 981 ms).
# 2. Two trainings at once for TRAIN_S seconds, same data (demos + first-frame scenes):
#    A = a fresh `small` with the embedded recipe (sine/cosine priors, Gaussian loc targets,
#        L1 + squared x/y, half phase-balanced, the geometry head reading hand offsets; the twin
#        rows restate the side): the network the CPU stages of sessions 3-6 built on, trained
#        longer on one card;
#    B = the committed checkpoint fine-tuned whole at lr 1e-4 with the same loss.
#    Compare eval_target_correct, eval_twin_answer_acc and eval_move_* in their logs, then
#    `main.py eval` on CPU.
set -u
OUT=${OUT:-runs/device}
TRAIN_S=${TRAIN_S:-210}
DATA=${DATA:-gpu_data/demos,gpu_data/scenes}
DEVICE=${DEVICE:-cuda}
PY=${PY:-python3}
mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then  # packages the GPU image lacks (pydantic), carried as wheels
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $PY -c "import torch, transformers, peft; print(torch.__version__, transformers.__version__, peft.__version__)"
  timeout "${TEST_S:-60}" $PY -m pytest -q -m gpu tests/policy/test_gpu.py -p no:cacheprovider; } > "$OUT/misc.log" 2>&1

timeout "${BENCH_S:-200}" $PY -m benchmarks.bench_policy --skip-cpu --skip-lora --compile \
  --json "$OUT/bench_3b_decode.json" > "$OUT/bench_3b_decode.log" 2>&1

common=(--steps 200000 --batch-size 128 --stale-prob 0.3 --stale-from-start 0.5 --scene-balance 0.5 --eval-every 2000
        --save-every 1000000 --workers 5 --target-eval-scenes 48 --time-limit "$TRAIN_S" --device "$DEVICE"
        --preset small --action-loss l1+mse-xy --phase-balance 0.5 --data "$DATA")
rm -rf /tmp/small_A /tmp/small_B  # a training_state.pt left there would be resumed instead
$PY main.py train "${common[@]}" --lr 1e-3 --geometry-offsets --out /tmp/small_A > "$OUT/train_A.log" 2>&1 &
$PY main.py train "${common[@]}" --lr 1e-4 --init-from checkpoints/vla --out /tmp/small_B > "$OUT/train_B.log" 2>&1 &
wait
for run in small_A small_B; do
  tar -C /tmp -cf "$OUT/$run.tar" --exclude training_state.pt "$run"
done
echo "device_run done"
