#!/usr/bin/env bash
# Installs every Debian package cfma needs. Idempotent: when everything is present it only
# runs one dpkg query (well under a second) and exits.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  openmpi-bin libopenmpi-dev libboost-mpi-dev libboost-serialization-dev
  libtorch-dev libopenblas0-pthread libblas-dev
  libhdf5-openmpi-dev hdf5-tools
  libeigen3-dev libtomlplusplus-dev libgtest-dev libfftw3-dev libsndfile1-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libfluidsynth-dev timgm6mb-soundfont
  slurm-wlm munge libpmix-dev
  python3 python3-numpy python3-h5py python3-sklearn python3-scipy python3-torch
  chromium python3-pil  # the report's browser test (tests/report/check_page.py)
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${#missing[@]} missing packages: ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
