#!/usr/bin/env bash
# The demo: installs what is missing, builds, renders the default dataset from the TimGM6mb
# SoundFont, and runs the whole pipeline of configs/demo.toml on 2 MPI ranks. Re-running
# skips every stage whose outputs are up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh cfma_cli
source scripts/mpi-env.sh
if [[ ! -f data/demo/examples.json ]]; then
  build/cfma render --config configs/demo.toml
fi
mpirun -np 2 --bind-to none build/cfma run configs/demo.toml "$@"
echo "demo: report at work/demo/report/index.html"
