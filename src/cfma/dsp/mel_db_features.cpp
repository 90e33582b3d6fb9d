#include "cfma/dsp/mel_db_features.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "cfma/core/error.hpp"

namespace cfma::dsp {

namespace {

void check_shape(std::span<const float> mel_db, int n_mels, int frames, std::size_t out_size,
                 std::size_t expected_out, const char* what) {
  if (n_mels <= 0 || frames <= 0 ||
      mel_db.size() != static_cast<std::size_t>(n_mels) * static_cast<std::size_t>(frames) ||
      out_size != expected_out)
    throw DspError(std::string(what) + ": mel_db must be [" + std::to_string(n_mels) + "][" +
                   std::to_string(frames) + "] with " + std::to_string(expected_out) + " outputs");
}

}  // namespace

void median_over_bins(std::span<const float> mel_db, int n_mels, int frames, std::span<float> out) {
  std::vector<float> scratch(static_cast<std::size_t>(std::max(n_mels, 0)));
  median_over_bins(mel_db, n_mels, frames, out, scratch);
}

void median_over_bins(std::span<const float> mel_db, int n_mels, int frames, std::span<float> out,
                      std::span<float> scratch) {
  const auto f = static_cast<std::size_t>(frames);
  check_shape(mel_db, n_mels, frames, out.size(), f, "median_over_bins");
  const auto n = static_cast<std::size_t>(n_mels);
  if (scratch.size() < n) throw DspError("median_over_bins: scratch must hold n_mels values");
  const auto column = scratch.first(n);
  const auto mid = column.begin() + static_cast<std::ptrdiff_t>(n / 2);
  for (std::size_t t = 0; t < f; ++t) {
    for (std::size_t m = 0; m < n; ++m) column[m] = mel_db[m * f + t];
    std::nth_element(column.begin(), mid, column.end());
    if (n % 2 == 1) {
      out[t] = *mid;
    } else {
      const float below = *std::max_element(column.begin(), mid);
      out[t] = (below + *mid) / 2.0f;
    }
  }
}

void mean_over_bins(std::span<const float> mel_db, int n_mels, int frames, std::span<float> out) {
  const auto f = static_cast<std::size_t>(frames);
  check_shape(mel_db, n_mels, frames, out.size(), f, "mean_over_bins");
  std::fill(out.begin(), out.end(), 0.0f);
  for (std::size_t m = 0; m < static_cast<std::size_t>(n_mels); ++m)
    for (std::size_t t = 0; t < f; ++t) out[t] += mel_db[m * f + t];
  for (float& v : out) v /= static_cast<float>(n_mels);
}

void time_to_db(std::span<const float> mel_db, int n_mels, int frames, float threshold,
                DbCondition condition, std::span<float> out) {
  const auto f = static_cast<std::size_t>(frames);
  check_shape(mel_db, n_mels, frames, out.size(), static_cast<std::size_t>(n_mels), "time_to_db");
  for (std::size_t m = 0; m < out.size(); ++m) {
    const float* row = mel_db.data() + m * f;
    std::size_t t = 0;
    if (condition == DbCondition::equal)
      while (t < f && row[t] != threshold) ++t;
    else
      while (t < f && !(row[t] <= threshold)) ++t;
    out[m] = static_cast<float>(t);
  }
}

}  // namespace cfma::dsp
