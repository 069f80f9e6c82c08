#!/usr/bin/env bash
# Downloads the Debian packages the build needs (Catch2, fmt) into .deps/debs (git-ignored), for
# GPU machines that cannot reach a package registry: carry .deps with the checkout and
# tests/gpu/run.sh unpacks them there.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .deps/debs
cd .deps/debs
apt-get download catch2 libfmt-dev libfmt9 nlohmann-json3-dev libcli11-dev libyaml-cpp-dev libyaml-cpp0.7 \
  libdnnl-dev libdnnl2
ls -l
