#pragma once
// Reads a reference note with libsndfile: float samples = PCM16 / 32768, what librosa.load
// returns for 16-bit files (test_dsp and bench_features link libsndfile for this only; the
// dsp library itself never touches files).
#include <sndfile.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace cfma::test {

inline std::vector<float> read_wav_pcm16(const std::filesystem::path& path) {
  SF_INFO info{};
  SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
  if (!file) throw std::runtime_error(path.string() + ": " + sf_strerror(nullptr));
  if (info.channels != 1) {
    sf_close(file);
    throw std::runtime_error(path.string() + ": expected mono");
  }
  std::vector<float> samples(static_cast<std::size_t>(info.frames));
  const auto read = sf_readf_float(file, samples.data(), info.frames);
  sf_close(file);
  if (read != info.frames) throw std::runtime_error(path.string() + ": truncated");
  return samples;
}

}  // namespace cfma::test
