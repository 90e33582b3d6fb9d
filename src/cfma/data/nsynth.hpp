#pragma once
// NSynth reader, jsonwav layout:
//   <root>/examples.json   {"<note_str>": {note, note_str, instrument, ..., qualities_str}, ...}
//   <root>/audio/<note_str>.wav   16 kHz mono PCM16, 64000 samples
// scan_dataset() reads and validates the index and pairs it with the wav files; reading a
// note's samples is separate (read_note_audio), so ranks read only the notes they own.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "cfma/data/data_config.hpp"
#include "cfma/data/example.hpp"

namespace cfma::data {

// A problem with one note that the on_error policy decides about (skip or fail).
struct Problem {
  std::string note_str;
  std::filesystem::path file;
  std::string message;
  bool operator==(const Problem&) const = default;
};
// "<file>: <message>", one line.
std::string to_string(const Problem& p);
void to_json(nlohmann::json& j, const Problem& p);
void from_json(const nlohmann::json& j, Problem& p);

struct DatasetScan {
  std::filesystem::path root;
  std::vector<Example> examples;  // entries with a wav, sorted by note_str (Q2: fixed order)
  std::vector<Problem> problems;  // entries without a wav, wavs without an entry (sorted)
};

// Throws DataError when examples.json is missing or malformed ("<file>: line L: ...") or an
// entry lacks a field or has a wrong type ("<file>: <note_str>: key '<k>' ...").
DatasetScan scan_dataset(const std::filesystem::path& root);

// The note's samples as float32 = PCM16 / 32768 (what librosa.load returns for 16-bit wavs).
// Throws DataError "<wav>: <problem>" when the file cannot be opened or decoded, has a sample
// rate other than config.sample_rate, more than one channel, a length other than
// config.n_samples, is truncated, or holds NaN/Inf samples.
std::vector<float> read_note_audio(const Example& e, const DataConfig& config);
// The same into a caller-owned buffer of config.n_samples floats.
void read_note_audio(const Example& e, const DataConfig& config, std::span<float> out);

}  // namespace cfma::data
