#!/usr/bin/env bash
# Configures (once) and builds cfma in build/ (Release). Incremental: a second run only
# rebuilds what changed. Usage: scripts/build.sh [ninja targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build -j"$(nproc)" ${1:+--target "$@"}
