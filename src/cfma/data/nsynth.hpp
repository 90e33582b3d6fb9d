#pragma once
// NSynth reader, jsonwav layout:
//   <root>/examples.json   {"<note_str>": {note, note_str, instrument, ..., qualities_str}, ...}
//   <root>/audio/<note_str>.wav   16 kHz mono PCM16, 64000 samples
// scan_dataset() reads and validates the index and pairs it with the wav files; reading a
// note's samples is separate (read_note_audio), so ranks read only the notes they own.
// NSynth's official split (data.split = "official") keeps one such folder per part:
//   <root>/nsynth-train/   train notes      (each: examples.json + audio/)
//   <root>/nsynth-test/    test notes
//   <root>/nsynth-valid/   not used (the probes have no validation split; logged when present)
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
  std::filesystem::path root;                     // data.root
  std::vector<std::filesystem::path> index_files; // the examples.json files read
  std::vector<Example> examples;  // entries with a wav, sorted by note_str (Q2: fixed order)
  std::vector<Problem> problems;  // entries without a wav, wavs without an entry (sorted)
  std::vector<std::string> official_test;  // scan_official: nsynth-test's note_strs, sorted
};

// Throws DataError when examples.json is missing or malformed ("<file>: line L: ...") or an
// entry lacks a field or has a wrong type ("<file>: <note_str>: key '<k>' ...").
DatasetScan scan_dataset(const std::filesystem::path& root);

// The union of <root>/nsynth-train and <root>/nsynth-test (each read by scan_dataset, so every
// Example's wav points into its own folder), with official_test naming the test notes.
// Throws DataError naming data.root when either folder is missing, or the note_str of a note
// that both folders hold.
DatasetScan scan_official(const std::filesystem::path& root);

// What the selection of `config` needs: scan_official(root) for data.split = "official",
// otherwise scan_dataset(root).
DatasetScan scan_data_root(const DataConfig& config);

// The note's samples as float32 = PCM16 / 32768 (what librosa.load returns for 16-bit wavs).
// Throws DataError "<wav>: <problem>" when the file cannot be opened or decoded, has a sample
// rate other than config.sample_rate, more than one channel, a length other than
// config.n_samples, is truncated, or holds NaN/Inf samples.
std::vector<float> read_note_audio(const Example& e, const DataConfig& config);
// The same into a caller-owned buffer of config.n_samples floats.
void read_note_audio(const Example& e, const DataConfig& config, std::span<float> out);

}  // namespace cfma::data
