#!/usr/bin/env bash
# The layer check refuses a planted upward include (a CPU kernel including a core header and a
# CUDA kernel) and names both, and accepts the same tree without them.
set -euo pipefail
script="$1/tools/check_layers.cmake"
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/kernels/cpu" "$tree/core"
printf '#include "kernels/conv_geometry.h"\n' > "$tree/kernels/cpu/good.h"
printf '#include "kernels/cpu/good.h"\n#include "kernels/error.h"\n' > "$tree/core/op.cpp"
cmake -DROOT="$tree" -P "$script"
printf '#include "core/tensor.h"\n#include "kernels/cuda/prelu.h"\n' > "$tree/kernels/cpu/bad.h"
if out=$(cmake -DROOT="$tree" -P "$script" 2>&1); then
  echo "the planted upward includes were accepted"
  exit 1
fi
grep -q 'kernels/cpu/bad.h includes "core/tensor.h"' <<<"$out"
grep -q 'kernels/cpu/bad.h includes "kernels/cuda/prelu.h"' <<<"$out"
echo "refused as expected"
