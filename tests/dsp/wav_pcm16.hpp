#pragma once
// A minimal RIFF/WAVE reader for 16-bit PCM mono 16 kHz files (the reference notes and NSynth).
// Header-only so that test_dsp and bench_features, which link only cfma_dsp, can read audio.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace cfma::test {

// The float32 samples librosa.load returns for the reference notes (16-bit PCM, mono,
// 16 kHz): PCM / 32768, which is also what libsndfile's float read gives. test_dsp and the
// bench link only cfma_dsp (no libsndfile), so this reads the RIFF/WAVE chunks itself.
inline std::vector<float> read_wav_pcm16(const std::filesystem::path& path) {
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

}  // namespace cfma::test
