#pragma once
// Access to /work/shared/reference (see its README.md): the 24 nsynth-mini notes read with
// libsndfile, and what librosa 0.9.2 / scipy 1.10.1 computed on them (librosa-features.h5).
// Loaded once per test binary; the extractor's outputs are cached per configuration.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "cfma/dsp/feature_extractor.hpp"
#include "cfma/store/h5.hpp"
#include "tests/test_paths.hpp"

namespace cfma::test::dsp_reference {

inline std::filesystem::path reference_dir() { return shared_dir() / "reference"; }

// Opened per read and closed at once (a static File would be closed after HDF5 shut down).
inline store::File h5() { return store::File::open_serial(reference_dir() / "librosa-features.h5"); }

// The float32 samples librosa.load returns for the reference notes (16-bit PCM, mono,
// 16 kHz): PCM / 32768, which is also what libsndfile's float read gives. test_dsp links only
// cfma_dsp (no libsndfile), so this reads the RIFF/WAVE chunks itself.
inline std::vector<float> read_wav(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto u32 = [&](std::size_t at) {
    std::uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return v;
  };
  const auto u16 = [&](std::size_t at) {
    std::uint16_t v;
    std::memcpy(&v, bytes.data() + at, 2);
    return v;
  };
  if (bytes.size() < 12 || std::memcmp(bytes.data(), "RIFF", 4) != 0 || std::memcmp(bytes.data() + 8, "WAVE", 4) != 0)
    throw std::runtime_error(path.string() + ": not a RIFF/WAVE file");
  bool format_ok = false;
  for (std::size_t at = 12; at + 8 <= bytes.size();) {
    const std::uint32_t size = u32(at + 4);
    const std::size_t body = at + 8;
    if (body + size > bytes.size()) break;
    if (std::memcmp(bytes.data() + at, "fmt ", 4) == 0)
      format_ok = u16(body) == 1 && u16(body + 2) == 1 && u32(body + 4) == 16000 && u16(body + 14) == 16;
    if (std::memcmp(bytes.data() + at, "data", 4) == 0) {
      if (!format_ok) throw std::runtime_error(path.string() + ": expected 16-bit PCM mono 16 kHz");
      std::vector<float> samples(size / 2);
      for (std::size_t i = 0; i < samples.size(); ++i)
        samples[i] = static_cast<float>(static_cast<std::int16_t>(u16(body + 2 * i))) / 32768.0f;
      return samples;
    }
    at = body + size + (size & 1);
  }
  throw std::runtime_error(path.string() + ": no data chunk");
}

// Row order of every [24, ...] reference dataset: the `names` dataset (sorted note_str).
inline const std::vector<std::string>& names() {
  static const std::vector<std::string> n = h5().read_strings("pad_reflect/names");
  return n;
}

inline const std::vector<std::vector<float>>& notes() {
  static const std::vector<std::vector<float>> audio = [] {
    std::vector<std::vector<float>> a;
    for (const auto& name : names()) a.push_back(read_wav(reference_dir() / "nsynth-mini" / "audio" / (name + ".wav")));
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
