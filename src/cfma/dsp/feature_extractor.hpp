#pragma once
// The per-note feature computation of reference-spec section 2: the log-mel spectrogram (the
// network input) and the hand-crafted features, each a named unit in a registry so that the
// list of /hand datasets maps one-to-one to code (Essentia style).
//
// Memory: a FeatureExtractor owns its FFTW plan and every buffer (about 1.3 MB for the
// defaults), allocated once; compute() allocates nothing after the first call with a given
// NoteFeatures. Not thread-safe: one extractor per thread.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cfma/dsp/features_config.hpp"

namespace cfma::dsp {

struct HandFeatureSpec {
  std::string name;                // HDF5 dataset below /hand, e.g. "time_to_70db"
  std::string display_name;        // as in reference-spec 2.5 and the paper's plots
  std::vector<std::size_t> shape;  // per note, e.g. {128} or {6, 128}
  std::size_t size() const;        // product of shape
};

// In this order: rms, centroid, bandwidth, flatness, rolloff, median_power, mean_power
// ([frames] each); time_to_80db, time_to_75db, time_to_70db, wavelet_mean_<w> for each
// configured width ([n_mels] each); wavelet_stats_<stats_width> [6, n_mels] (median, sd, var,
// kurtosis, q25, q75). Throws DspError for an invalid config.
std::vector<HandFeatureSpec> hand_feature_specs(const FeaturesConfig& config);

struct NoteFeatures {
  std::vector<float> mel_db;               // [n_mels][frames] row-major (mel bin major)
  std::vector<std::vector<float>> hand;    // one flat vector per hand_feature_specs() entry
};

class FeatureExtractor {
 public:
  explicit FeatureExtractor(const FeaturesConfig& config);  // DspError for an invalid config
  ~FeatureExtractor();
  FeatureExtractor(FeatureExtractor&&) noexcept;
  FeatureExtractor& operator=(FeatureExtractor&&) noexcept;

  const FeaturesConfig& config() const;
  const std::vector<HandFeatureSpec>& specs() const;
  // samples.size() must be config.n_samples (DspError otherwise). A silent note gives an
  // all-0 dB mel_db and a NaN wavelet kurtosis, as librosa and scipy do; callers that cannot
  // store NaN should check.
  void compute(std::span<const float> samples, NoteFeatures& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cfma::dsp
