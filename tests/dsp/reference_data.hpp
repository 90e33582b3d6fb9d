#pragma once
// Access to /work/shared/reference (see its README.md): the 24 nsynth-mini notes read with
// libsndfile, and what librosa 0.9.2 / scipy 1.10.1 computed on them (librosa-features.h5).
// Loaded once per test binary; the extractor's outputs are cached per configuration.
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "cfma/dsp/feature_extractor.hpp"
#include "cfma/store/h5.hpp"
#include "tests/dsp/wav_pcm16.hpp"
#include "tests/test_paths.hpp"

namespace cfma::test::dsp_reference {

inline std::filesystem::path reference_dir() { return shared_dir() / "reference"; }

// Opened per read and closed at once (a static File would be closed after HDF5 shut down).
inline store::File h5() { return store::File::open_serial(reference_dir() / "librosa-features.h5"); }

// Row order of every [24, ...] reference dataset: the `names` dataset (sorted note_str).
inline const std::vector<std::string>& names() {
  static const std::vector<std::string> n = h5().read_strings("pad_reflect/names");
  return n;
}

inline const std::vector<std::vector<float>>& notes() {
  static const std::vector<std::vector<float>> audio = [] {
    std::vector<std::vector<float>> a;
    for (const auto& name : names()) a.push_back(cfma::test::read_wav_pcm16(reference_dir() / "nsynth-mini" / "audio" / (name + ".wav")));
    return a;
  }();
  return audio;
}

inline const std::vector<float>& dataset(const std::string& path) {
  static std::map<std::string, std::vector<float>> cache;
  auto it = cache.find(path);
  if (it == cache.end()) it = cache.emplace(path, h5().read_all<float>(path)).first;
  return it->second;
}

inline const char* group(cfma::dsp::PadMode mode) {
  return mode == cfma::dsp::PadMode::reflect ? "pad_reflect/" : "pad_constant/";
}

inline cfma::dsp::FeaturesConfig config(cfma::dsp::PadMode mode, int spectral_sr) {
  cfma::dsp::FeaturesConfig c;
  c.pad_mode = mode;
  c.spectral_sr = spectral_sr;
  return c;
}

// The extractor's features for all 24 notes under (pad mode, spectral_sr).
inline const std::vector<cfma::dsp::NoteFeatures>& computed(cfma::dsp::PadMode mode, int spectral_sr) {
  static std::map<std::pair<int, int>, std::vector<cfma::dsp::NoteFeatures>> cache;
  const auto key = std::make_pair(static_cast<int>(mode), spectral_sr);
  auto it = cache.find(key);
  if (it == cache.end()) {
    cfma::dsp::FeatureExtractor extractor(config(mode, spectral_sr));
    std::vector<cfma::dsp::NoteFeatures> all(notes().size());
    for (std::size_t i = 0; i < notes().size(); ++i) extractor.compute(notes()[i], all[i]);
    it = cache.emplace(key, std::move(all)).first;
  }
  return it->second;
}

// Index of a hand feature by dataset name in the default registry.
inline std::size_t hand_index(const std::string& name) {
  static const auto specs = cfma::dsp::hand_feature_specs(cfma::dsp::FeaturesConfig{});
  for (std::size_t i = 0; i < specs.size(); ++i)
    if (specs[i].name == name) return i;
  throw std::runtime_error("no hand feature " + name);
}

}  // namespace cfma::test::dsp_reference
