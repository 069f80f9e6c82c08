#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds rtseg and runs the whole test suite: the normal build
# (CUDA compiled by nvcc when a toolkit is there; GPU tests skip without a GPU), then the CUDA
# backend on the emulated device under AddressSanitizer and UBSan (`ctest -L emu` in
# <build-dir>-emu; docs/cuda-emulation.md).
# Usage: bash tests/run.sh [build-dir]   (CI runs exactly this through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"

# python3-torch (CPU) only generates the PyTorch parity references; rtseg never needs Python.
packages=(build-essential cmake ninja-build pkg-config catch2 libfmt-dev libstb-dev nlohmann-json3-dev
  libcli11-dev libyaml-cpp-dev libboost-context-dev libdnnl-dev clang-format
  python3 python3-torch)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Wall time of each phase, printed before the last one (whose ctest summary ends the output).
timings=()
phase_start=$SECONDS
phase_done() {
  timings+=("$(printf '%-34s %5d s' "$1" $((SECONDS - phase_start)))")
  phase_start=$SECONDS
}
phase_done "packages"

jobs=$(nproc)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build_dir" -j "$jobs"
phase_done "build"
(cd "$build_dir" && ctest -j "$jobs" --output-on-failure)
phase_done "tests"

emu_dir="${build_dir}-emu"
cmake -S . -B "$emu_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRTSEG_CUDA_EMULATION=ON \
  -DRTSEG_SANITIZE=address,undefined
cmake --build "$emu_dir" -j "$jobs" --target emu_tests
phase_done "emulated-device build (ASan, UBSan)"
printf '%s\n' "wall time so far:" "${timings[@]}"
cd "$emu_dir"
ctest -L emu -j "$jobs" --output-on-failure
