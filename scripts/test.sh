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
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
