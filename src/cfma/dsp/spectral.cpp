#include "cfma/dsp/spectral.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include "cfma/core/error.hpp"

namespace cfma::dsp {

namespace {

void check_bins(std::span<const float> spectrum, std::span<const double> freqs, const char* what) {
  if (spectrum.size() != freqs.size() || spectrum.empty())
    throw DspError(std::string(what) + ": spectrum has " + std::to_string(spectrum.size()) +
                   " bins but there are " + std::to_string(freqs.size()) + " frequencies");
}

// librosa.util.normalize(norm=1): norms below the smallest normal float32 become 1.
double l1_norm_or_one(double sum) {
  return sum < static_cast<double>(std::numeric_limits<float>::min()) ? 1.0 : sum;
}

}  // namespace

void rms_frames(std::span<const float> padded, int frame_length, int hop_length,
                std::span<float> out) {
  if (frame_length <= 0 || hop_length <= 0) throw DspError("rms_frames: lengths must be > 0");
  const auto n = static_cast<std::size_t>(frame_length);
  const auto hop = static_cast<std::size_t>(hop_length);
  if (!out.empty() && (out.size() - 1) * hop + n > padded.size())
    throw DspError("rms_frames: " + std::to_string(out.size()) + " frames do not fit in " +
                   std::to_string(padded.size()) + " samples");
  for (std::size_t t = 0; t < out.size(); ++t) {
    const float* x = padded.data() + t * hop;
    double acc[4] = {0, 0, 0, 0};
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4)
      for (std::size_t j = 0; j < 4; ++j) acc[j] += static_cast<double>(x[i + j]) * x[i + j];
    for (; i < n; ++i) acc[0] += static_cast<double>(x[i]) * x[i];
    out[t] = static_cast<float>(std::sqrt(((acc[0] + acc[1]) + (acc[2] + acc[3])) / static_cast<double>(n)));
  }
}

double spectral_centroid(std::span<const float> magnitude, std::span<const double> freqs) {
  check_bins(magnitude, freqs, "spectral_centroid");
  double sum[2] = {0, 0}, weighted[2] = {0, 0};
  std::size_t k = 0;
  for (; k + 2 <= magnitude.size(); k += 2)
    for (std::size_t j = 0; j < 2; ++j) {
      sum[j] += magnitude[k + j];
      weighted[j] += freqs[k + j] * magnitude[k + j];
    }
  for (; k < magnitude.size(); ++k) {
    sum[0] += magnitude[k];
    weighted[0] += freqs[k] * magnitude[k];
  }
  return (weighted[0] + weighted[1]) / l1_norm_or_one(sum[0] + sum[1]);
}

double spectral_bandwidth(std::span<const float> magnitude, std::span<const double> freqs,
                          double centroid) {
  check_bins(magnitude, freqs, "spectral_bandwidth");
  double sum[2] = {0, 0}, weighted[2] = {0, 0};
  std::size_t k = 0;
  for (; k + 2 <= magnitude.size(); k += 2)
    for (std::size_t j = 0; j < 2; ++j) {
      const double d = freqs[k + j] - centroid;
      sum[j] += magnitude[k + j];
      weighted[j] += d * d * magnitude[k + j];
    }
  for (; k < magnitude.size(); ++k) {
    const double d = freqs[k] - centroid;
    sum[0] += magnitude[k];
    weighted[0] += d * d * magnitude[k];
  }
  return std::sqrt((weighted[0] + weighted[1]) / l1_norm_or_one(sum[0] + sum[1]));
}

double sum_of_logs(std::span<const float> x, float floor) {
  if (!(floor > 0.0f)) throw DspError("sum_of_logs: floor must be > 0");
  // Floats lie in [2^-149, 2^128): 16 of them multiply to within double's exponent range.
  constexpr std::size_t kChunk = 16;
  double mantissa = 1.0;
  long exponent = 0;
  std::size_t k = 0;
  const auto take = [floor](float v) { return static_cast<double>(std::max(v, floor)); };
  for (; k + kChunk <= x.size(); k += kChunk) {
    double p[4] = {1, 1, 1, 1};
    for (std::size_t i = 0; i < kChunk; i += 4)
      for (std::size_t j = 0; j < 4; ++j) p[j] *= take(x[k + i + j]);
    int e = 0;
    mantissa = std::frexp(mantissa * ((p[0] * p[1]) * (p[2] * p[3])), &e);
    exponent += e;
  }
  double tail = 1.0;
  for (; k < x.size(); ++k) tail *= take(x[k]);
  int e = 0;
  mantissa = std::frexp(mantissa * tail, &e);
  exponent += e;
  return std::log(mantissa) + static_cast<double>(exponent) * std::numbers::ln2;
}

double spectral_flatness(std::span<const float> power, double amin) {
  if (power.empty()) throw DspError("spectral_flatness: empty spectrum");
  if (!(amin > 0)) throw DspError("spectral_flatness: amin must be > 0");
  const auto floor = static_cast<float>(amin);
  double sum[4] = {0, 0, 0, 0};
  std::size_t k = 0;
  for (; k + 4 <= power.size(); k += 4)
    for (std::size_t j = 0; j < 4; ++j) sum[j] += std::max(power[k + j], floor);
  for (; k < power.size(); ++k) sum[0] += std::max(power[k], floor);
  const double n = static_cast<double>(power.size());
  const double arithmetic_mean = ((sum[0] + sum[1]) + (sum[2] + sum[3])) / n;
  const double geometric_mean = std::exp(sum_of_logs(power, floor) / n);
  return geometric_mean / arithmetic_mean;
}

double spectral_rolloff(std::span<const float> magnitude, std::span<const double> freqs,
                        double roll_percent) {
  check_bins(magnitude, freqs, "spectral_rolloff");
  // numpy.cumsum over float32 is a sequential float sum; its last value is the total.
  float total = 0.0f;
  for (float s : magnitude) total += s;
  // roll_percent * float32 array: numpy casts the Python float to float32 and multiplies there.
  const float threshold = static_cast<float>(roll_percent) * total;
  float running = 0.0f;
  for (std::size_t k = 0; k < magnitude.size(); ++k) {
    running += magnitude[k];
    if (running >= threshold) return freqs[k];
  }
  return freqs.back();  // unreachable for roll_percent <= 1: the total reaches the threshold
}

}  // namespace cfma::dsp
