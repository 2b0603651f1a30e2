#!/usr/bin/env bash
# One lent-GPU session (see docs/BENCHMARKS.md): CUDA tests, an A/B training of the `small`
# policy preset on packed demos, and the 3B reasoning call under torch.compile.
#
#   here:  python scripts/pack_demos.py data/demos --out gpu_data/demos --stride 2
#          python scripts/pack_demos.py data/scenes,data/scenes2,data/scenes3 --out gpu_data/scenes
#   GPU:   bash scripts/device_run.sh          (results under $OUT, default runs/device)
#
# A = the embedded recipe (sine/cosine priors + Gaussian loc targets) on the `small` preset;
# B = the same network and data with plain init and plain cross-entropy; C = A's recipe on the
# 0.6 M-parameter `tiny` preset. All three run at once for TRAIN_S seconds.
set -u
OUT=${OUT:-runs/device}
TRAIN_S=${TRAIN_S:-270}
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
  timeout 120 $PY -m pytest -q -m gpu tests/policy/test_gpu.py -p no:cacheprovider; } > "$OUT/misc.log" 2>&1

common=(--data "$DATA" --steps 200000 --batch-size 128 --lr 1e-3 --stale-prob 0.3
        --scene-balance 0.5 --eval-every 4000 --save-every 1000000 --workers 4 --target-eval-scenes 32
        --time-limit "$TRAIN_S" --device "$DEVICE")
$PY main.py train "${common[@]}" --preset small --out /tmp/small_A > "$OUT/train_A.log" 2>&1 &
$PY main.py train "${common[@]}" --preset small --out /tmp/small_B --loc-sigma 0 --set structured_init=false \
  > "$OUT/train_B.log" 2>&1 &
$PY main.py train "${common[@]}" --preset tiny --out /tmp/tiny_C > "$OUT/train_C.log" 2>&1 &
wait
for run in small_A small_B tiny_C; do
  tar -C /tmp -cf "$OUT/$run.tar" --exclude training_state.pt "$run"
done
timeout 170 $PY -m benchmarks.bench_policy --skip-cpu --skip-lora --compile --json "$OUT/gpu_compile.json" \
  >> "$OUT/misc.log" 2>&1
echo "device_run done"
