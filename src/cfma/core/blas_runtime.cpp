#include "cfma/core/blas_runtime.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <utility>

#include <unistd.h>

// OpenBLAS's own API; weak, so that the reference BLAS (no such symbols) still links and runs.
extern "C" {
void openblas_set_num_threads(int) __attribute__((weak));
int openblas_get_num_threads() __attribute__((weak));
char* openblas_get_config() __attribute__((weak));
char* openblas_get_corename() __attribute__((weak));
}

namespace cfma {

namespace {
constexpr const char* detected_variable = "CFMA_OPENBLAS_DETECTED";  // set across the re-exec

bool is_openblas() {
  return openblas_get_corename != nullptr && openblas_get_config != nullptr && openblas_get_num_threads != nullptr;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Instruction level of OpenBLAS's x86-64 core names (dynamic-arch targets); -1 when unknown.
int kernel_level(std::string_view core) {
  static const std::array<std::pair<const char*, int>, 25> levels{{
      {"katmai", 0},      {"coppermine", 0}, {"northwood", 0}, {"prescott", 0},  {"banias", 0},
      {"core2", 0},       {"penryn", 0},     {"dunnington", 0}, {"nehalem", 0},  {"atom", 0},
      {"opteron", 0},     {"barcelona", 0},  {"nano", 0},       {"bobcat", 0},   {"athlon", 0},
      {"sandybridge", 1}, {"bulldozer", 1},  {"piledriver", 1}, {"steamroller", 1},
      {"haswell", 2},     {"excavator", 2},  {"zen", 2},
      {"skylakex", 3},    {"cooperlake", 3}, {"sapphirerapids", 3},
  }};
  const auto name = lower(core);
  for (const auto& [n, level] : levels)
    if (name == n) return level;
  return -1;
}
}  // namespace

int cpu_vector_level() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return 3;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 2;
  if (__builtin_cpu_supports("avx")) return 1;
  return 0;
}

std::string capable_blas_kernels(std::string_view detected, int cpu_level) {
  const int level = kernel_level(detected);
  if (level < 0 || level >= cpu_level) return {};
  switch (cpu_level) {
    case 3: return "SkylakeX";  // measured faster than Cooperlake for DGEMM/DSYRK (bench/README.md)
    case 2: return "Haswell";
    case 1: return "Sandybridge";
    default: return {};
  }
}

void reexec_with_capable_blas_kernels(char** argv) {
  if (!is_openblas() || std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const std::string detected = openblas_get_corename();
  const std::string kernels = capable_blas_kernels(detected, cpu_vector_level());
  if (kernels.empty()) return;
  setenv("OPENBLAS_CORETYPE", kernels.c_str(), 1);
  setenv(detected_variable, detected.c_str(), 1);
  execv("/proc/self/exe", argv);
  // exec failed (no /proc): carry on with the detected kernels.
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv(detected_variable);
}

std::string blas_kernel_note() {
  const char* detected = std::getenv(detected_variable);
  const char* chosen = std::getenv("OPENBLAS_CORETYPE");
  if (detected == nullptr || chosen == nullptr) return {};
  return std::string("OpenBLAS detected ") + detected + " kernels on this CPU; re-executed with OPENBLAS_CORETYPE=" +
         chosen + " (set OPENBLAS_CORETYPE to choose)";
}

void set_blas_threads(int threads) {
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(threads > 0 ? threads : 1);
}

int blas_threads() { return openblas_get_num_threads != nullptr ? openblas_get_num_threads() : 1; }

std::string blas_description() {
  if (!is_openblas()) return "BLAS (not OpenBLAS)";
  const int threads = openblas_get_num_threads();
  return std::string(openblas_get_config()) + ", kernels " + openblas_get_corename() + ", " + std::to_string(threads) +
         (threads == 1 ? " thread" : " threads");
}

}  // namespace cfma
