#include "cfma/probe/control_task.hpp"

#include <algorithm>
#include <map>

#include "cfma/core/error.hpp"

namespace cfma::probe {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) for (seed, stream, key): 53 random bits.
double uniform(std::uint64_t seed, std::uint64_t stream, std::int64_t key) {
  const std::uint64_t h = splitmix64(splitmix64(splitmix64(seed) ^ stream) ^ static_cast<std::uint64_t>(key));
  return static_cast<double>(h >> 11) / 9007199254740992.0;
}

// The value at empirical quantile u of `counts` (value -> count), values ascending.
template <class T>
T inverse_cdf(const std::map<T, std::int64_t>& counts, std::int64_t total, double u) {
  const double target = u * static_cast<double>(total);
  std::int64_t cumulative = 0;
  for (const auto& [value, count] : counts) {
    cumulative += count;
    if (target < static_cast<double>(cumulative)) return value;
  }
  return counts.rbegin()->first;
}

}  // namespace

ControlTargets control_targets(const std::vector<int>& family, int classes,
                               const std::vector<std::int64_t>& instrument, const std::vector<double>& pitch,
                               std::uint64_t seed) {
  ControlTargets control;
  const auto rows = static_cast<std::int64_t>(pitch.size());
  if (!instrument.empty()) {
    if (static_cast<std::int64_t>(instrument.size()) != rows || static_cast<std::int64_t>(family.size()) != rows)
      throw ProbeError("control tasks: label lengths differ");
    std::map<int, std::int64_t> family_counts;
    for (const int y : family) ++family_counts[y];
    std::map<std::int64_t, int> of_instrument;
    for (const auto id : instrument)
      if (!of_instrument.count(id)) of_instrument[id] = inverse_cdf(family_counts, rows, uniform(seed, 1, id));
    for (const auto id : instrument) control.family.push_back(of_instrument.at(id));
    for (const int y : control.family)
      if (y < 0 || y >= classes) throw ProbeError("control tasks: family label outside [0, classes)");
  }
  std::map<double, std::int64_t> pitch_counts;
  for (const double p : pitch) ++pitch_counts[p];
  std::map<double, double> of_pitch;
  for (const double p : pitch)
    if (!of_pitch.count(p)) of_pitch[p] = inverse_cdf(pitch_counts, rows, uniform(seed, 2, static_cast<std::int64_t>(p)));
  for (const double p : pitch) control.pitch.push_back(of_pitch.at(p));
  return control;
}

}  // namespace cfma::probe
