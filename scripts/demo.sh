#!/usr/bin/env bash
# The main job: build rtseg, train CIFReNet from scratch, evaluate it, segment images, and say
# where everything went.
#   bash scripts/demo.sh                  the built-in synthetic street scenes (no download)
#   bash scripts/demo.sh /path/to/camvid  CamVid, SegNet layout (train.txt, val.txt, 480x360)
# Installs missing build packages with apt (the list of tests/run.sh without python3-torch),
# builds the `rtseg` target in Release into build-demo/ (CUDA only where a GPU can use it), and
# trains on the GPU when there is one (longer and larger there), otherwise on the CPU.
# Environment: BUILD_DIR (build-demo), ITERATIONS (training length), RUN_DIR (runs/demo_<data>).
set -euo pipefail
cd "$(dirname "$0")/.."
camvid="${1:-}"
build_dir="${BUILD_DIR:-build-demo}"
start=$(date +%s)
stamp() { echo "[$(($(date +%s) - start))s] $*"; }

packages=(build-essential cmake ninja-build pkg-config catch2 libfmt-dev libstb-dev nlohmann-json3-dev
  libcli11-dev libyaml-cpp-dev libdnnl-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  stamp "installing: ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# A GPU is used when the driver sees one and a CUDA toolkit is there to build for it (the
# build's own test: nvcc on the PATH or in /usr/local/cuda).
gpu=0
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 &&
  { command -v nvcc >/dev/null 2>&1 || [[ -x /usr/local/cuda/bin/nvcc ]]; }; then
  gpu=1
fi
cuda_flag=()
((gpu)) || cuda_flag=(-DRTSEG_CUDA=OFF)  # no GPU to use: skip compiling the CUDA kernels

stamp "building rtseg (Release) in $build_dir"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF "${cuda_flag[@]}" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target rtseg
rtseg="$build_dir/rtseg"

settings=()
if [[ -n "$camvid" ]]; then
  [[ -f "$camvid/train.txt" && -f "$camvid/val.txt" ]] || {
    echo "error: $camvid has no train.txt/val.txt (the SegNet CamVid layout)" >&2
    exit 1
  }
  name=camvid
  config=configs/demo_camvid.yaml
  settings+=("data.root=$camvid")
  if ((gpu)); then
    settings+=("train.iterations=${ITERATIONS:-3000}" "data.train_resize=[360, 480]" "data.eval_size=[360, 480]"
      train.val_interval=500 train.batch_size=8)
  else
    settings+=("train.iterations=${ITERATIONS:-100}")
  fi
else
  name=synthetic
  config=configs/demo_synthetic.yaml
  if ((gpu)); then
    settings+=("train.iterations=${ITERATIONS:-3000}" "data.synthetic_size=[256, 512]"
      data.synthetic_train_samples=1000 data.synthetic_val_samples=100 train.val_interval=500
      train.batch_size=8)
  else
    settings+=("train.iterations=${ITERATIONS:-500}")
  fi
fi
run_dir="${RUN_DIR:-runs/demo_$name}"

stamp "training CIFReNet from scratch on $name ($config ${settings[*]})"
# The demo's run folder is its own: a second demo replaces the first (rtseg train refuses to
# overwrite a run folder unless told to).
[[ -e "$run_dir/last.safetensors" ]] && stamp "replacing the previous demo run in $run_dir"
"$rtseg" train --config "$config" -o "$run_dir" --overwrite "${settings[@]}"

stamp "evaluating $run_dir/best.safetensors"
"$rtseg" eval --weights "$run_dir/best.safetensors" --examples 4 -o "$run_dir/eval" | tee "$run_dir/eval.txt"

# predict works on image files: CamVid's validation images, or the inputs eval --examples wrote.
if [[ -n "$camvid" ]]; then
  mapfile -t images < <(awk 'NF { print $1 }' "$camvid/val.txt" | head -n 4 | sed "s|^|$camvid/|")
else
  mapfile -t images < <(ls "$run_dir"/eval/examples/*_image.png)
fi
stamp "segmenting ${#images[@]} images"
"$rtseg" predict --weights "$run_dir/best.safetensors" -o "$run_dir/predictions" "${images[@]}"

miou=$(sed -n 's/^mIoU \([0-9.na]*\) .*/\1/p' "$run_dir/eval.txt")
baseline=$(sed -n 's/.*most frequent class gives mIoU \([0-9.na]*\).*/\1/p' "$run_dir/eval.txt")
cat <<DONE

== done in $(($(date +%s) - start))s: validation mIoU ${miou}% (every pixel the most frequent class: ${baseline}%)
  run folder       $run_dir/  (config.yaml, last.safetensors, best.safetensors)
  training curves  $run_dir/curves.png
  logs             $run_dir/train_log.csv, $run_dir/val_log.csv
  TensorBoard      tensorboard --logdir $run_dir
  evaluation       $run_dir/eval.txt, $run_dir/eval/metrics.json
  examples         $run_dir/eval/examples/*_{image,truth,prediction}.png
  predictions      $run_dir/predictions/*_{overlay,color,label}.png
  the binary       $rtseg --help
DONE
