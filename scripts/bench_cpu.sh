#!/usr/bin/env bash
# The CPU benchmark table of BENCHMARKS.md: rtseg's fast backend against PyTorch, TorchScript,
# ONNX Runtime and OpenVINO on the same machine, in the same run, with the same threads.
#   bash scripts/bench_cpu.sh [build-dir]      (default build/; needs `rtseg` built there)
# The peers are dev-time Python packages: RTSEG_PYTHON names a python3 that imports torch,
# onnxruntime and openvino (e.g. a venv made with --system-site-packages beside Debian's
# python3-torch, then `pip install onnxruntime openvino onnx`). THREADS (default "1 2") and
# SECONDS_PER_RUN (default 5) shape the run.
set -euo pipefail
cd "$(dirname "$0")/.."
rtseg="${1:-build}/rtseg"
[[ -x "$rtseg" ]] || { echo "error: $rtseg not built (cmake --build ${1:-build} --target rtseg)" >&2; exit 1; }
export RTSEG_PYTHON="${RTSEG_PYTHON:-python3}"
seconds="${SECONDS_PER_RUN:-5}"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; commit $(git rev-parse --short HEAD)"
for t in ${THREADS:-1 2}; do
  echo "== inference, $t thread(s)"
  "$rtseg" bench --cpu --threads "$t" --net cifrenet --size 360x640 --seconds "$seconds" --no-layers \
    --peers torch,torchscript,onnxruntime,openvino
  "$rtseg" bench --cpu --threads "$t" --net cifrenet --size 360x640 --seconds "$seconds" --no-layers \
    --cpu-backend reference --iterations 3 --warmup 1 | grep -E "^cifrenet|protocol"
  for net in pidnet-s icfrnet; do
    "$rtseg" bench --cpu --threads "$t" --net "$net" --size 512x1024 --seconds "$seconds" --no-layers \
      --peers onnxruntime,openvino
  done
  echo "== training step, $t thread(s)"
  "$rtseg" bench --train --cpu --threads "$t" --net cifrenet --size 360x480 --batch 2 \
    --seconds "$seconds" --peers torch
  "$rtseg" bench --train --cpu --threads "$t" --net pidnet-s --size 512x512 --batch 2 \
    --seconds "$seconds" --peers torch
done
