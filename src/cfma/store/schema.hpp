#pragma once
// The on-disk schema shared by the jobs (documented in README.md, "HDF5 schema").
//
// features.h5 (preprocess):
//   /mel_db                 float32 [N, n_mels, frames]  chunked [1, n_mels, frames]
//   /hand/<feature>         float32 [N, 128]   (see dsp::hand_feature_specs)
//   /hand/wavelet_stats_25  float32 [N, 6, 128] (median, sd, var, kurtosis, q25, q75)
//   /labels/family          int32 [N]   label 0..K-1 (kept NSynth family codes, ascending)
//   /labels/family_code     int32 [N]   NSynth instrument_family
//   /labels/family_names    string [K]
//   /labels/pitch, velocity, instrument, source   int32 [N]
//   /labels/note_str, instrument_str              string [N]
//   /labels/qualities       uint8 [N, 10]
//   /split/train, /split/test  int64 row indices (train ascending)
//   attributes on /: cfma_version, config_key, sample_rate, n_fft, hop_length, n_mels, frames,
//   pad_mode, spectral_sr, n_examples, n_skipped
//
// activations/<run>.h5 (extract): /layers/<layer id> float32 [N, D] in features.h5 row order,
//   attribute "shape" (e.g. "10,124,124") and "reduce" on each; attributes on /: run, arch,
//   task, seed, trained (0/1), features_key.
#include <string>

namespace cfma::store::schema {

inline constexpr const char* mel_db = "/mel_db";
inline constexpr const char* hand_group = "/hand";
inline constexpr const char* labels_group = "/labels";
inline constexpr const char* split_train = "/split/train";
inline constexpr const char* split_test = "/split/test";
inline constexpr const char* layers_group = "/layers";

inline std::string hand(const std::string& feature) { return std::string(hand_group) + "/" + feature; }
inline std::string label(const std::string& name) { return std::string(labels_group) + "/" + name; }
inline std::string layer(const std::string& id) { return std::string(layers_group) + "/" + id; }

}  // namespace cfma::store::schema
