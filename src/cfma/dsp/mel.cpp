#include "cfma/dsp/mel.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "cfma/core/error.hpp"

namespace cfma::dsp {

namespace {

// Slaney scale constants, spelled as librosa computes them.
constexpr double kFMin = 0.0;
constexpr double kFSp = 200.0 / 3;
constexpr double kMinLogHz = 1000.0;
constexpr double kMinLogMel = (kMinLogHz - kFMin) / kFSp;
const double kLogStep = std::log(6.4) / 27.0;

}  // namespace

double hz_to_mel(double hz) {
  if (hz >= kMinLogHz) return kMinLogMel + std::log(hz / kMinLogHz) / kLogStep;
  return (hz - kFMin) / kFSp;
}

double mel_to_hz(double mel) {
  if (mel >= kMinLogMel) return kMinLogHz * std::exp(kLogStep * (mel - kMinLogMel));
  return kFMin + kFSp * mel;
}

std::vector<double> mel_frequencies(int n, double fmin, double fmax) {
  if (n <= 0) throw DspError("mel_frequencies: n must be > 0, got " + std::to_string(n));
  const double lo = hz_to_mel(fmin), hi = hz_to_mel(fmax);
  std::vector<double> hz(static_cast<std::size_t>(n));
  // numpy.linspace: i * step + start, the last point set to stop exactly.
  const double step = n > 1 ? (hi - lo) / (n - 1) : 0.0;
  for (int i = 0; i < n; ++i) hz[static_cast<std::size_t>(i)] = mel_to_hz(i * step + lo);
  if (n > 1) hz.back() = mel_to_hz(hi);
  return hz;
}

std::vector<double> fft_frequencies(double sample_rate, int n_fft) {
  if (n_fft < 2 || !(sample_rate > 0))
    throw DspError("fft_frequencies: need n_fft >= 2 and sample_rate > 0");
  const double step = 1.0 / (n_fft * (1.0 / sample_rate));  // numpy.fft.rfftfreq
  std::vector<double> f(static_cast<std::size_t>(n_fft / 2 + 1));
  for (std::size_t k = 0; k < f.size(); ++k) f[k] = static_cast<double>(k) * step;
  return f;
}

MelFilterbank mel_filterbank(double sample_rate, int n_fft, int n_mels, double fmin, double fmax) {
  if (n_mels <= 0 || n_fft < 2 || !(sample_rate > 0) || fmin < 0 || !(fmax > fmin) ||
      fmax > sample_rate / 2)
    throw DspError("mel_filterbank: invalid parameters (sr " + std::to_string(sample_rate) +
                   ", n_fft " + std::to_string(n_fft) + ", n_mels " + std::to_string(n_mels) +
                   ", fmin " + std::to_string(fmin) + ", fmax " + std::to_string(fmax) + ")");
  MelFilterbank fb;
  fb.n_mels = n_mels;
  fb.bins = n_fft / 2 + 1;
  const auto bins = static_cast<std::size_t>(fb.bins);
  fb.weights.assign(static_cast<std::size_t>(n_mels) * bins, 0.0f);
  fb.band_begin.assign(static_cast<std::size_t>(n_mels), 0);
  fb.band_end.assign(static_cast<std::size_t>(n_mels), 0);
  const auto fft_f = fft_frequencies(sample_rate, n_fft);
  const auto mel_f = mel_frequencies(n_mels + 2, fmin, fmax);
  for (std::size_t i = 0; i < static_cast<std::size_t>(n_mels); ++i) {
    const double fdiff_lo = mel_f[i + 1] - mel_f[i];
    const double fdiff_hi = mel_f[i + 2] - mel_f[i + 1];
    const double enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
    int begin = fb.bins, end = 0;
    for (std::size_t k = 0; k < bins; ++k) {
      const double lower = -(mel_f[i] - fft_f[k]) / fdiff_lo;
      const double upper = (mel_f[i + 2] - fft_f[k]) / fdiff_hi;
      // librosa stores the triangle as float32, then scales it by enorm (float64) in place.
      const auto tri = static_cast<float>(std::max(0.0, std::min(lower, upper)));
      const auto w = static_cast<float>(static_cast<double>(tri) * enorm);
      fb.weights[i * bins + k] = w;
      if (w != 0.0f) {
        begin = std::min(begin, static_cast<int>(k));
        end = static_cast<int>(k) + 1;
      }
    }
    // An empty filter (too many mels for n_fft) keeps an empty band and outputs 0, as librosa.
    fb.band_begin[i] = std::min(begin, end);
    fb.band_end[i] = end;
  }
  return fb;
}

void apply_mel_filterbank(const MelFilterbank& fb, std::span<const float> power,
                          std::span<float> mel) {
  if (power.size() != static_cast<std::size_t>(fb.bins) ||
      mel.size() != static_cast<std::size_t>(fb.n_mels))
    throw DspError("apply_mel_filterbank: expected " + std::to_string(fb.bins) + " bins in and " +
                   std::to_string(fb.n_mels) + " mels out");
  const auto bins = static_cast<std::size_t>(fb.bins);
  for (std::size_t m = 0; m < mel.size(); ++m) {
    const auto b = static_cast<std::size_t>(fb.band_begin[m]);
    const auto e = static_cast<std::size_t>(fb.band_end[m]);
    const float* w = fb.weights.data() + m * bins;
    // Four independent partial sums: lets the compiler vectorise without -ffast-math.
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::size_t k = b;
    for (; k + 4 <= e; k += 4)
      for (std::size_t j = 0; j < 4; ++j) acc[j] += w[k + j] * power[k + j];
    for (; k < e; ++k) acc[0] += w[k] * power[k];
    mel[m] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  }
}

void power_to_db(std::span<const float> power, std::span<float> db, double amin, double top_db) {
  if (db.size() != power.size()) throw DspError("power_to_db: input and output sizes differ");
  if (!(amin > 0)) throw DspError("power_to_db: amin must be > 0");
  if (top_db < 0) throw DspError("power_to_db: top_db must be >= 0");
  if (power.empty()) return;
  const float ref = *std::max_element(power.begin(), power.end());
  const double ref_db = 10.0 * std::log10(std::max(amin, static_cast<double>(ref)));
  float max_db = -std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < power.size(); ++i) {
    const double v = 10.0 * std::log10(std::max(amin, static_cast<double>(power[i])));
    db[i] = static_cast<float>(v - ref_db);
    max_db = std::max(max_db, db[i]);
  }
  const auto floor = static_cast<float>(static_cast<double>(max_db) - top_db);
  for (float& v : db) v = std::max(v, floor);
}

}  // namespace cfma::dsp
