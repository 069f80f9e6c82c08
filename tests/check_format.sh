#!/usr/bin/env bash
# Every C++/CUDA source is formatted by the repository's .clang-format (clang-format 14, Debian
# 12's; other versions format differently, so the check skips with them).
# Usage: check_format.sh SOURCE_DIR
set -euo pipefail
cd "$1"
command -v clang-format >/dev/null || { echo "clang-format not installed: skipped"; exit 77; }
version=$(clang-format --version | sed -n 's/.*version \([0-9]*\).*/\1/p')
[[ "$version" == 14 ]] || { echo "clang-format $version, not 14: skipped"; exit 77; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files '*.cpp' '*.h' '*.cu' '*.cuh')
else
  files=$(find . -path ./build\* -prune -o \( -name '*.cpp' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' \) -print)
fi
bad=()
for f in $files; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  echo "not formatted (run: clang-format -i FILE): ${bad[*]}"
  exit 1
fi
echo "$(wc -w <<<"$files") files formatted"
