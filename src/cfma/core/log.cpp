#include "cfma/core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace cfma {

void init_logging(int rank, int size, bool verbose) {
  auto logger = spdlog::stderr_color_mt("cfma");
  const std::string who = size > 1 ? "[rank " + std::to_string(rank) + "] " : "";
  logger->set_pattern("[%H:%M:%S] [%^%l%$] " + who + "%v");
  if (rank == 0) logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  else logger->set_level(verbose ? spdlog::level::debug : spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

ProgressMeter::ProgressMeter(std::string label, std::int64_t total, std::string unit,
                             double interval_seconds)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total),
      interval_(interval_seconds), start_(std::chrono::steady_clock::now()), last_(start_) {}

double ProgressMeter::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressMeter::update(std::int64_t done) {
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_).count() < interval_) return;
  last_ = now;
  report(done);
}

void ProgressMeter::finish(std::int64_t done) { report(done); }

void ProgressMeter::report(std::int64_t done) {
  const double secs = elapsed_seconds();
  const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
  const double pct = total_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  spdlog::info("{}: {}/{} {} ({:.1f}%), {:.1f} {}/s, elapsed {:.1f} s, ETA {:.0f} s", label_, done,
               total_, unit_, pct, rate, unit_, secs, eta);
}

}  // namespace cfma
