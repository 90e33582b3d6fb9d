#include "cfma/dsp/feature_extractor.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <functional>
#include <numeric>
#include <string>

#include "cfma/core/error.hpp"
#include "cfma/dsp/mel.hpp"
#include "cfma/dsp/mel_db_features.hpp"
#include "cfma/dsp/spectral.hpp"
#include "cfma/dsp/stft.hpp"
#include "cfma/dsp/wavelet.hpp"

namespace cfma::dsp {

namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// What the hand-crafted units read: the intermediate results of one note.
struct NoteAnalysis {
  int frames = 0;
  int n_mels = 0;
  int bins = 0;                        // n_fft / 2 + 1
  std::span<const float> padded;       // the centred, padded signal
  std::span<const float> power;        // |STFT|^2, [frames][bins]
  std::span<const float> magnitude;    // |STFT|,   [frames][bins]
  std::span<const double> spectral_freqs;  // k * spectral_sr / n_fft
  std::span<const float> mel_db;       // [n_mels][frames]
  const RowMatrix* mel_db_double = nullptr;  // the same in double, for the wavelet transforms

  std::span<const float> frame(std::span<const float> spectrogram, int t) const {
    const auto b = static_cast<std::size_t>(bins);
    return spectrogram.subspan(static_cast<std::size_t>(t) * b, b);
  }
};

using Compute = std::function<void(const NoteAnalysis&, std::span<float>)>;

struct HandFeatureUnit {
  HandFeatureSpec spec;
  Compute compute;
};

// A per-frame spectral feature: out[t] = f(frame t).
template <class PerFrame>
Compute per_frame(PerFrame f) {
  return [f](const NoteAnalysis& a, std::span<float> out) {
    for (int t = 0; t < a.frames; ++t) out[static_cast<std::size_t>(t)] = static_cast<float>(f(a, t));
  };
}

Compute time_to(float threshold, DbCondition condition) {
  return [threshold, condition](const NoteAnalysis& a, std::span<float> out) {
    time_to_db(a.mel_db, a.n_mels, a.frames, threshold, condition, out);
  };
}

Compute wavelet_mean(int frames, int width) {
  const auto weights = ricker_cwt_mean_weights(frames, width);
  return [weights](const NoteAnalysis& a, std::span<float> out) {
    const Eigen::Map<const Eigen::VectorXd> w(weights.data(), static_cast<Eigen::Index>(weights.size()));
    for (int m = 0; m < a.n_mels; ++m)
      out[static_cast<std::size_t>(m)] = static_cast<float>(a.mel_db_double->row(m).dot(w.transpose()));
  };
}

// The six statistics per mel bin of the width-w transform: out is [6][n_mels].
Compute wavelet_stats(int frames, int n_mels, int width) {
  // std::function needs a copyable callable; the transform owns FFTW plans, so share it.
  auto cwt = std::make_shared<RickerCwt>(frames, width);
  auto values = std::make_shared<std::vector<double>>(static_cast<std::size_t>(n_mels) * static_cast<std::size_t>(frames));
  return [cwt, values](const NoteAnalysis& a, std::span<float> out) {
    cwt->transform(a.mel_db, *values);
    const auto n = static_cast<std::size_t>(a.n_mels), f = static_cast<std::size_t>(a.frames);
    for (std::size_t m = 0; m < n; ++m) {
      const auto st = describe(std::span<double>(*values).subspan(m * f, f));
      const double stats[kWaveletStatisticsCount] = {st.median, st.sd,  st.variance,
                                                     st.kurtosis, st.q25, st.q75};
      for (std::size_t s = 0; s < kWaveletStatisticsCount; ++s) out[s * n + m] = static_cast<float>(stats[s]);
    }
  };
}

// The registry: one entry per /hand dataset, in storage order.
std::vector<HandFeatureUnit> hand_feature_units(const FeaturesConfig& c) {
  validate(c);
  const auto nf = static_cast<std::size_t>(frames(c));
  const auto nm = static_cast<std::size_t>(c.n_mels);
  const double amin = c.amin, roll = c.roll_percent;
  const int fft_length = c.n_fft, hop = c.hop_length;
  std::vector<HandFeatureUnit> units;
  units.push_back({{"rms", "RMS", {nf}}, [fft_length, hop](const NoteAnalysis& a, std::span<float> out) {
                     rms_frames(a.padded, fft_length, hop, out);
                   }});
  units.push_back({{"centroid", "Centroid", {nf}}, per_frame([](const NoteAnalysis& a, int t) {
                     return spectral_centroid(a.frame(a.magnitude, t), a.spectral_freqs);
                   })});
  units.push_back({{"bandwidth", "Band Width", {nf}}, per_frame([](const NoteAnalysis& a, int t) {
                     const auto s = a.frame(a.magnitude, t);
                     return spectral_bandwidth(s, a.spectral_freqs, spectral_centroid(s, a.spectral_freqs));
                   })});
  units.push_back({{"flatness", "Spectral Flatness", {nf}}, per_frame([amin](const NoteAnalysis& a, int t) {
                     return spectral_flatness(a.frame(a.power, t), amin);
                   })});
  units.push_back({{"rolloff", "Rolloff", {nf}}, per_frame([roll](const NoteAnalysis& a, int t) {
                     return spectral_rolloff(a.frame(a.magnitude, t), a.spectral_freqs, roll);
                   })});
  units.push_back({{"median_power", "Median Power", {nf}},
                   [scratch = std::vector<float>(nm)](const NoteAnalysis& a, std::span<float> out) mutable {
                     median_over_bins(a.mel_db, a.n_mels, a.frames, out, scratch);
                   }});
  units.push_back({{"mean_power", "Mean Power", {nf}}, [](const NoteAnalysis& a, std::span<float> out) {
                     mean_over_bins(a.mel_db, a.n_mels, a.frames, out);
                   }});
  // The paper's thresholds are fixed dB levels; -80 is matched by equality (quirk Q5).
  units.push_back({{"time_to_80db", "Time to -80 dB", {nm}}, time_to(-80.0f, DbCondition::equal)});
  units.push_back({{"time_to_75db", "Time to -75 dB", {nm}}, time_to(-75.0f, DbCondition::at_most)});
  units.push_back({{"time_to_70db", "Time to -70 dB", {nm}}, time_to(-70.0f, DbCondition::at_most)});
  for (int w : c.wavelet_widths)
    units.push_back({{"wavelet_mean_" + std::to_string(w), "Mean Wavelet-" + std::to_string(w), {nm}},
                     wavelet_mean(frames(c), w)});
  const auto ws = std::to_string(c.stats_width);
  units.push_back({{"wavelet_stats_" + ws, "Wavelets Combined-" + ws,
                    {static_cast<std::size_t>(kWaveletStatisticsCount), nm}},
                   wavelet_stats(frames(c), c.n_mels, c.stats_width)});
  return units;
}

}  // namespace

std::size_t HandFeatureSpec::size() const {
  return std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
}

std::vector<HandFeatureSpec> hand_feature_specs(const FeaturesConfig& config) {
  std::vector<HandFeatureSpec> specs;
  for (auto& u : hand_feature_units(config)) specs.push_back(std::move(u.spec));
  return specs;
}

struct FeatureExtractor::Impl {
  FeaturesConfig config;
  int frames;
  int bins;
  RealFft fft;
  std::vector<double> window;
  MelFilterbank filterbank;
  std::vector<double> spectral_freqs;
  std::vector<HandFeatureUnit> units;
  std::vector<HandFeatureSpec> specs;
  // Buffers, sized once.
  std::vector<float> padded;      // n_samples + n_fft
  std::vector<float> power;       // [frames][bins]
  std::vector<float> magnitude;   // [frames][bins]
  std::vector<float> mel_frame;   // [n_mels]
  std::vector<float> mel_power;   // [n_mels][frames]
  RowMatrix mel_db_double;        // [n_mels][frames]

  explicit Impl(const FeaturesConfig& c)
      : config(c),
        frames(dsp::frames(c)),
        bins(c.n_fft / 2 + 1),
        fft(c.n_fft),
        window(hann_window(c.n_fft)),
        filterbank(mel_filterbank(c.sample_rate, c.n_fft, c.n_mels, c.fmin, c.fmax)),
        spectral_freqs(fft_frequencies(c.spectral_sr, c.n_fft)),
        units(hand_feature_units(c)) {
    for (const auto& u : units) specs.push_back(u.spec);
    const auto nf = static_cast<std::size_t>(frames), nb = static_cast<std::size_t>(bins);
    padded.resize(static_cast<std::size_t>(c.n_samples) + static_cast<std::size_t>(c.n_fft));
    power.resize(nf * nb);
    magnitude.resize(nf * nb);
    mel_frame.resize(static_cast<std::size_t>(c.n_mels));
    mel_power.resize(static_cast<std::size_t>(c.n_mels) * nf);
    mel_db_double.resize(c.n_mels, frames);
  }

  void compute(std::span<const float> samples, NoteFeatures& out) {
    if (samples.size() != static_cast<std::size_t>(config.n_samples))
      throw DspError("FeatureExtractor: a note must have n_samples = " +
                     std::to_string(config.n_samples) + " samples, got " + std::to_string(samples.size()));
    const auto nf = static_cast<std::size_t>(frames), nb = static_cast<std::size_t>(bins);
    const auto nm = static_cast<std::size_t>(config.n_mels);
    pad_centered(samples, config.n_fft / 2, config.pad_mode, padded);

    // One pass over the frames: power and magnitude spectra, and the mel power of each frame.
    for (std::size_t t = 0; t < nf; ++t) {
      load_windowed_frame(padded, static_cast<int>(t), config.hop_length, window, fft);
      const std::span<float> p(power.data() + t * nb, nb);
      fft.spectrum(p, std::span<float>(magnitude.data() + t * nb, nb));
      apply_mel_filterbank(filterbank, p, mel_frame);
      for (std::size_t m = 0; m < nm; ++m) mel_power[m * nf + t] = mel_frame[m];
    }
    out.mel_db.resize(nm * nf);
    power_to_db(mel_power, out.mel_db, config.amin, config.top_db);
    mel_db_double = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
                        out.mel_db.data(), config.n_mels, frames)
                        .cast<double>();

    NoteAnalysis a;
    a.frames = frames;
    a.n_mels = config.n_mels;
    a.bins = bins;
    a.padded = padded;
    a.power = power;
    a.magnitude = magnitude;
    a.spectral_freqs = spectral_freqs;
    a.mel_db = out.mel_db;
    a.mel_db_double = &mel_db_double;
    out.hand.resize(units.size());
    for (std::size_t i = 0; i < units.size(); ++i) {
      out.hand[i].resize(units[i].spec.size());
      units[i].compute(a, out.hand[i]);
    }
  }
};

FeatureExtractor::FeatureExtractor(const FeaturesConfig& config) {
  validate(config);
  impl_ = std::make_unique<Impl>(config);
}
FeatureExtractor::~FeatureExtractor() = default;
FeatureExtractor::FeatureExtractor(FeatureExtractor&&) noexcept = default;
FeatureExtractor& FeatureExtractor::operator=(FeatureExtractor&&) noexcept = default;

const FeaturesConfig& FeatureExtractor::config() const { return impl_->config; }
const std::vector<HandFeatureSpec>& FeatureExtractor::specs() const { return impl_->specs; }
void FeatureExtractor::compute(std::span<const float> samples, NoteFeatures& out) {
  impl_->compute(samples, out);
}

}  // namespace cfma::dsp
