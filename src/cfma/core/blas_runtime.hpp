#pragma once
// The system BLAS at run time (Debian's libblas.so.3: OpenBLAS once install-deps has run, the
// reference BLAS otherwise). LibTorch's linear layers and the similarity job's Gram products
// go through it, so every process sets its thread count and makes sure it runs the kernels this
// CPU can run.
//
// OpenBLAS picks its kernels at load time from the CPU model. A release older than the CPU
// (Debian 12's 0.3.21 on a 5th-generation Xeon, CPU model 207) falls back to Prescott (SSE3)
// kernels: 4x slower GEMMs on an AVX-512 machine. OPENBLAS_CORETYPE chooses them instead, but
// only before the library loads; hence reexec_with_capable_blas_kernels below.
#include <string>
#include <string_view>

namespace cfma {

// Vector instruction level: 0 below AVX, 1 AVX, 2 AVX2 + FMA, 3 AVX-512 (F, CD, BW, DQ, VL).
int cpu_vector_level();
// The OPENBLAS_CORETYPE to ask for when OpenBLAS's own choice (`detected`, its core name, case
// ignored) uses an older instruction level than `cpu_level`: "SkylakeX", "Haswell" or
// "Sandybridge". Empty when the detected kernels are as capable, or the name is unknown.
std::string capable_blas_kernels(std::string_view detected, int cpu_level);

// When the loaded BLAS is OpenBLAS, OPENBLAS_CORETYPE is unset and capable_blas_kernels names
// better kernels, sets OPENBLAS_CORETYPE and re-executes this program with the same arguments
// (call first thing in main, before MPI starts). Returns when there is nothing to do.
void reexec_with_capable_blas_kernels(char** argv);
// "OpenBLAS detected Prescott kernels ..." when the process was re-executed for that reason,
// else empty: for the log.
std::string blas_kernel_note();

// Threads of the BLAS in this process (OpenBLAS's pool; the reference BLAS has none). Without
// this OpenBLAS starts one thread per core in every rank.
void set_blas_threads(int threads);
// The thread count set_blas_threads gave OpenBLAS (1 for other BLAS libraries).
int blas_threads();
// "OpenBLAS 0.3.21 ... , kernels SkylakeX, 1 thread", or "BLAS (not OpenBLAS)".
std::string blas_description();

}  // namespace cfma
