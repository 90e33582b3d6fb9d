#pragma once
// [features]: the per-note feature computation (reference-spec section 2). Names and defaults
// are librosa's; the defaults reproduce the paper's preprocessing except where noted.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfma/core/config.hpp"

namespace cfma::dsp {

enum class PadMode { reflect, constant };

struct FeaturesConfig {
  int sample_rate = 16000;
  int n_samples = 64000;  // every note is exactly this long (NSynth: 4 s at 16 kHz)
  int n_fft = 2048;       // also the RMS frame length, as librosa's defaults had it
  int hop_length = 502;   // gives 1 + 64000/502 = 128 frames
  int n_mels = 128;
  double fmin = 0.0;
  double fmax = 8000.0;
  // 'reflect' = librosa 0.8 (what the paper ran); 'constant' = librosa >= 0.9 default.
  PadMode pad_mode = PadMode::reflect;
  // Frequency axis of centroid, bandwidth and rolloff: k * spectral_sr / n_fft. The paper
  // omitted sr, so librosa used 22050 on 16 kHz audio (reference quirk Q4); 16000 is correct.
  int spectral_sr = 16000;
  double top_db = 80.0;
  double amin = 1e-10;
  double roll_percent = 0.85;
  std::vector<int> wavelet_widths = {1, 5, 10, 25};  // "Mean Wavelet-w" for each
  int stats_width = 25;                              // the six "... Wavelet-25" statistics
};

// Reads section [features]; throws ConfigError naming the key for a bad value.
FeaturesConfig parse_features_config(const cfma::ConfigDoc& doc);
// Throws DspError when the parameters are inconsistent (used by the parser and the extractor,
// so a config built in code is checked too).
void validate(const FeaturesConfig& config);
nlohmann::json to_json(const FeaturesConfig& config);

// STFT frames per note with centred frames: 1 + n_samples / hop_length (128 by default).
int frames(const FeaturesConfig& config);
const char* to_string(PadMode mode);

}  // namespace cfma::dsp
