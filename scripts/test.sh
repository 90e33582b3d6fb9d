#!/usr/bin/env bash
# The test command: installs what is missing, builds (Release, incremental), runs every test
# with ctest: unit tests and MPI tests at 1, 2 and 4 ranks, end-to-end CLI tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
source scripts/mpi-env.sh
# Each MPI test declares its rank count (PROCESSORS), so ctest never runs more ranks than
# cores at once.
# A test that skips itself records why (tests/skip.sh); ctest itself only says "Skipped".
rm -rf build/test-skips
print_skips() {
  if compgen -G "build/test-skips/*.txt" > /dev/null; then
    echo "Skipped tests, and why:"
    sed 's/^/  /' build/test-skips/*.txt
  fi
}
trap print_skips EXIT
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
