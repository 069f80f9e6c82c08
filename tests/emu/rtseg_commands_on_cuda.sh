#!/usr/bin/env bash
# The rtseg command on the (emulated) GPU, end to end: a short training run, evaluation,
# prediction and the net benchmark, all with --device cuda / train.device=cuda.
# Usage: rtseg_commands_on_cuda.sh RTSEG_BINARY SOURCE_DIR WORK_DIR
set -euo pipefail
rtseg="$1"
src="$2"
work="$3"
rm -rf "$work"
mkdir -p "$work"
cd "$src"

"$rtseg" train --config configs/demo_synthetic.yaml -o "$work/run" train.device=cuda \
  train.iterations=4 train.batch_size=2 train.log_interval=2 train.val_interval=4 \
  data.synthetic_train_samples=4 data.synthetic_val_samples=2 "data.synthetic_size=[32, 64]" \
  data.workers=1
test -f "$work/run/last.safetensors"
test -f "$work/run/best.safetensors"

"$rtseg" eval --weights "$work/run/best.safetensors" --device cuda --examples 1 -o "$work/eval" \
  | tee "$work/eval.txt"
grep -q "mIoU" "$work/eval.txt"
test -f "$work/eval/metrics.json"

"$rtseg" predict --weights "$work/run/best.safetensors" --device cuda -o "$work/predictions" \
  "$work/eval/examples"
ls "$work/predictions" | grep -q "_label.png"

"$rtseg" bench --net cifrenet --classes 11 --size 32x64 --warmup 1 --iterations 2 --no-layers \
  | tee "$work/bench.txt"
grep -qi "emulated" "$work/bench.txt"
echo "rtseg train, eval, predict and bench ran on the emulated GPU"
