#pragma once
// Logging: spdlog with the rank in every line. Rank 0 logs at info; other ranks at warning,
// so a P-rank job prints one progress stream plus whatever goes wrong anywhere.
#include <chrono>
#include <cstdint>
#include <string>

#include <spdlog/spdlog.h>

namespace cfma {

void init_logging(int rank, int size, bool verbose = false);

// Progress of a loop over `total` items, reported at most every `interval` seconds:
// "<label>: 1200/35000 examples (3.4%), 812.1 examples/s, ETA 41 s". Only the caller that
// owns the meter logs (rank 0 by convention); `done` counts items of all ranks.
class ProgressMeter {
 public:
  ProgressMeter(std::string label, std::int64_t total, std::string unit = "examples",
                double interval_seconds = 5.0);
  void update(std::int64_t done);
  void finish(std::int64_t done);
  double elapsed_seconds() const;

 private:
  void report(std::int64_t done);
  std::string label_;
  std::string unit_;
  std::int64_t total_;
  double interval_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace cfma
