#!/usr/bin/env bash
# End to end: cfma runs OpenBLAS kernels this CPU can run. OpenBLAS releases older than the CPU
# fall back to Prescott (SSE3) kernels; cfma then re-executes itself with OPENBLAS_CORETYPE set.
# An explicit OPENBLAS_CORETYPE is respected, and the re-exec keeps arguments and exit status.
set -euo pipefail
build=$1
cfma=$build/cfma
kernels_of() { sed -n 's/^BLAS: .*kernels \([A-Za-z0-9]*\),.*/\1/p'; }

out=$(env -u OPENBLAS_CORETYPE "$cfma" --version)
echo "$out"
grep -q '^cfma ' <<< "$out"
# Exit status 77 = skipped (ctest SKIP_RETURN_CODE), the reason recorded by skip_test.
source "$(dirname "$0")/../skip.sh"
if ! grep -q '^BLAS: OpenBLAS' <<< "$out"; then
  skip_test "$build" "the BLAS is not OpenBLAS: no kernels to choose"
fi
auto=$(kernels_of <<< "$out")
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { [[ " $flags " == *" $1 "* ]]; }
if has avx512f && has avx512bw && has avx512dq && has avx512vl && has avx512cd; then
  [[ "$auto" =~ ^(SkylakeX|Cooperlake|SapphireRapids)$ ]] || { echo "AVX-512 CPU but kernels $auto"; exit 1; }
elif has avx2 && has fma; then
  [[ ! "$auto" =~ ^(Prescott|Core2|Penryn|Dunnington|Nehalem|Atom|Sandybridge)$ ]] || { echo "AVX2 CPU but kernels $auto"; exit 1; }
else
  skip_test "$build" "this CPU has no AVX2/FMA: no newer kernels to choose or force"
fi
echo "  ok: automatic kernels $auto"

forced=$(OPENBLAS_CORETYPE=Haswell "$cfma" --version | kernels_of)
[[ "$forced" == Haswell ]] || { echo "OPENBLAS_CORETYPE=Haswell gave $forced"; exit 1; }
echo "  ok: OPENBLAS_CORETYPE=Haswell respected"

# A subcommand's exit status and error line survive the re-exec.
status=0
env -u OPENBLAS_CORETYPE "$cfma" config check /nonexistent.toml 2> "$build/blas_kernels.err" || status=$?
[[ $status -eq 1 ]] || { echo "expected exit 1, got $status"; exit 1; }
grep -q '/nonexistent.toml' "$build/blas_kernels.err"
echo "  ok: exit status and error line after re-exec"
