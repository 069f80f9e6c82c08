#!/usr/bin/env bash
# On a GPU machine: builds rtseg with CUDA, runs every test (the GPU ones included) and the
# benchmarks, and prints a summary table last. Results also go to $OUT (if set) or build-gpu/.
# Offline GPU machines: run tests/gpu/fetch_deps.sh where there is a network and carry .deps/.
set -uo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-build-gpu}"
mkdir -p "$out"

prefix=""
if compgen -G ".deps/debs/*.deb" > /dev/null; then
  mkdir -p .deps/root
  for f in .deps/debs/*.deb; do dpkg -x "$f" .deps/root; done
  prefix="$PWD/.deps/root/usr"
fi
cudnn_root="${CUDNN_ROOT:-}"
if [[ -z "$cudnn_root" ]] && ! ls /usr/local/cuda/include/cudnn.h > /dev/null 2>&1; then
  cudnn_root=$(python3 -c 'import nvidia.cudnn as m, os; print(os.path.dirname(m.__file__) if m.__file__ else list(m.__path__)[0])' 2>/dev/null || true)
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/device.txt"

jobs=$(nproc)
status_build=0
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DRTSEG_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="90;80" ${prefix:+-DCMAKE_PREFIX_PATH="$prefix"} \
  ${cudnn_root:+-DRTSEG_CUDNN_ROOT="$cudnn_root"} > "$out/configure.log" 2>&1 &&
  cmake --build build-gpu -j "$jobs" > "$out/build.log" 2>&1 || status_build=$?
if ((status_build)); then
  tail -40 "$out/configure.log" "$out/build.log"
  echo "BUILD FAILED"
  exit 1
fi

(cd build-gpu && ctest -j 4 --output-on-failure --timeout 900) > "$out/ctest.log" 2>&1
status_tests=$?
grep -E "^[0-9]+% tests passed|The following tests|Failed|\*\*\*" "$out/ctest.log" | tail -30

# Benchmarks: every conv shape of the nets (ours vs cuDNN), then each net with PIDNet's FPS
# protocol next to PyTorch on the same GPU (python3 there holds torch).
build-gpu/rtseg bench-kernels --markdown > "$out/kernels.md" 2> "$out/kernels.err" || tail -5 "$out/kernels.err"
for spec in "cifrenet 360x640" "pidnet-s 1024x2048" "icfrnet 1024x2048"; do
  set -- $spec
  RTSEG_PYTHON=python3 build-gpu/rtseg bench --net "$1" --size "$2" --torch > "$out/bench_$1.txt" 2>&1 ||
    tail -5 "$out/bench_$1.txt"
done

echo
echo "summary"
printf '%-28s %s\n' "device" "$(cat "$out/device.txt")" "commit" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
printf '%-28s %s\n' "tests" "$(grep -E '^[0-9]+% tests passed' "$out/ctest.log" || echo 'no summary')"
for t in build-gpu/tests/gpu_test_*; do
  name=$(basename "$t")
  result=$(grep -E "Test +#[0-9]+: $name " "$out/ctest.log" | sed -E 's/.*\.\.\. *//' | head -1)
  printf '%-28s %s\n' "$name" "${result:-not run}"
done
for spec in cifrenet pidnet-s icfrnet; do
  printf '%-28s %s\n' "bench $spec" "$(grep -E 'rtseg / PyTorch' "$out/bench_$spec.txt" 2>/dev/null | sed 's/^ *//' || echo 'not run')"
done
printf '%-28s %s\n' "conv kernel table" "$out/kernels.md ($(grep -c '^| ' "$out/kernels.md" 2>/dev/null || echo 0) rows)"
exit $status_tests
