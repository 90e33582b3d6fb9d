#include "cfma/data/nsynth.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>

#include <sndfile.h>

#include "cfma/core/error.hpp"
#include "cfma/core/log.hpp"

namespace cfma::data {

namespace fs = std::filesystem;

std::string to_string(const Problem& p) { return p.file.string() + ": " + p.message; }

void to_json(nlohmann::json& j, const Problem& p) {
  j = {{"note_str", p.note_str}, {"file", p.file.string()}, {"message", p.message}};
}

void from_json(const nlohmann::json& j, Problem& p) {
  p.note_str = j.at("note_str").get<std::string>();
  p.file = j.at("file").get<std::string>();
  p.message = j.at("message").get<std::string>();
}

namespace {

// nlohmann reports "[json.exception.parse_error.101] parse error at line 3, column 5: ...";
// keep the part after the position and compute the line ourselves from the byte offset.
std::string describe_parse_error(const nlohmann::json::parse_error& e, const std::string& text,
                                 const fs::path& file) {
  const std::size_t upto = std::min<std::size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
  const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(upto), '\n');
  std::string what = e.what();
  if (const auto colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
  std::replace(what.begin(), what.end(), '\n', ' ');
  return file.string() + ": line " + std::to_string(line) + ": " + what;
}

nlohmann::json read_json_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw DataError(file.string() + ": cannot open (is data.root an NSynth folder?)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw DataError(describe_parse_error(e, text, file));
  }
}

[[noreturn]] void wav_error(const std::string& file, const std::string& problem) {
  throw DataError(file + ": " + problem);
}

struct SndFileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};

}  // namespace

DatasetScan scan_dataset(const fs::path& root) {
  const fs::path index_file = root / "examples.json";
  const fs::path audio_dir = root / "audio";
  const auto index = read_json_file(index_file);
  if (!index.is_object())
    throw DataError(index_file.string() + ": expected an object keyed by note_str, got " +
                    index.type_name());
  if (!fs::is_directory(audio_dir))
    throw DataError(audio_dir.string() + ": no audio folder (expected <root>/audio/<note_str>.wav)");

  std::vector<std::string> wav_stems;
  for (const auto& entry : fs::directory_iterator(audio_dir)) {
    if (entry.path().extension() == ".wav") wav_stems.push_back(entry.path().stem().string());
  }
  std::sort(wav_stems.begin(), wav_stems.end());

  DatasetScan scan;
  scan.root = root;
  scan.index_files = {index_file};
  std::vector<std::string> indexed;
  indexed.reserve(index.size());
  for (const auto& [key, entry] : index.items()) {
    Example e = example_from_nsynth_json(entry, key, index_file.string());
    e.wav = audio_dir / (e.note_str + ".wav");
    indexed.push_back(e.note_str);
    if (std::binary_search(wav_stems.begin(), wav_stems.end(), e.note_str))
      scan.examples.push_back(std::move(e));
    else
      scan.problems.push_back({e.note_str, e.wav, "missing wav for examples.json entry '" + e.note_str + "'"});
  }
  std::sort(indexed.begin(), indexed.end());
  for (const auto& stem : wav_stems) {
    if (!std::binary_search(indexed.begin(), indexed.end(), stem))
      scan.problems.push_back({stem, audio_dir / (stem + ".wav"),
                               "wav has no entry in " + index_file.string()});
  }
  const auto by_note = [](const auto& a, const auto& b) { return a.note_str < b.note_str; };
  std::sort(scan.examples.begin(), scan.examples.end(), by_note);
  std::sort(scan.problems.begin(), scan.problems.end(), by_note);
  return scan;
}

DatasetScan scan_official(const fs::path& root) {
  const fs::path train_dir = root / "nsynth-train", test_dir = root / "nsynth-test", valid_dir = root / "nsynth-valid";
  std::vector<std::string> missing;
  for (const auto& dir : {train_dir, test_dir})
    if (!fs::is_directory(dir)) missing.push_back(dir.filename().string());
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : " and ") + m;
    throw DataError("data.root = " + root.string() + ": no " + names + " folder (data.split = \"official\" reads " +
                    "<root>/nsynth-train and <root>/nsynth-test, each with examples.json + audio/)");
  }
  if (fs::is_directory(valid_dir))
    spdlog::info("{}: not used (data.split = \"official\": train = nsynth-train, test = nsynth-test)",
                 valid_dir.string());

  auto train = scan_dataset(train_dir);
  auto test = scan_dataset(test_dir);
  DatasetScan scan;
  scan.root = root;
  scan.index_files = {train.index_files.front(), test.index_files.front()};
  for (const auto& e : test.examples) scan.official_test.push_back(e.note_str);  // sorted, as the scan
  for (const auto& e : train.examples) {
    if (std::binary_search(scan.official_test.begin(), scan.official_test.end(), e.note_str))
      throw DataError("data.root = " + root.string() + ": note '" + e.note_str +
                      "' is in both nsynth-train and nsynth-test (note_strs must be unique across the folders)");
  }
  scan.examples = std::move(train.examples);
  scan.examples.insert(scan.examples.end(), test.examples.begin(), test.examples.end());
  scan.problems = std::move(train.problems);
  scan.problems.insert(scan.problems.end(), test.problems.begin(), test.problems.end());
  const auto by_note = [](const auto& a, const auto& b) { return a.note_str < b.note_str; };
  std::sort(scan.examples.begin(), scan.examples.end(), by_note);
  std::stable_sort(scan.problems.begin(), scan.problems.end(), by_note);
  return scan;
}

DatasetScan scan_data_root(const DataConfig& config) {
  return config.split == Split::official ? scan_official(config.root) : scan_dataset(config.root);
}

void read_note_audio(const Example& e, const DataConfig& config, std::span<float> out) {
  const std::string file = e.wav.string();
  const auto fail = [&](const std::string& problem) { wav_error(file, problem); };
  if (static_cast<std::int64_t>(out.size()) != config.n_samples)
    fail("output buffer holds " + std::to_string(out.size()) + " samples, expected " +
         std::to_string(config.n_samples));

  SF_INFO info{};
  std::unique_ptr<SNDFILE, SndFileCloser> handle(sf_open(file.c_str(), SFM_READ, &info));
  if (!handle) {
    std::string reason = sf_strerror(nullptr);
    if (!fs::exists(e.wav)) reason = "file does not exist";
    fail("cannot read wav: " + reason);
  }
  if (info.samplerate != config.sample_rate)
    fail("sample rate " + std::to_string(info.samplerate) + " Hz, expected " +
         std::to_string(config.sample_rate) + " Hz");
  if (info.channels != 1)
    fail(std::to_string(info.channels) + " channels, expected mono");

  // libsndfile shortens the frame count of a wav whose data chunk runs past the end of the
  // file and logs "data : <header size> (should be <real size>)": report that as truncation
  // rather than as a wrong length.
  char log_buffer[4096] = {};
  sf_command(handle.get(), SFC_GET_LOG_INFO, log_buffer, sizeof log_buffer);
  const std::string log = log_buffer;
  const auto data_line = log.find("data : ");
  const bool truncated = data_line != std::string::npos &&
                         log.substr(data_line, log.find('\n', data_line) - data_line).find("should be") !=
                             std::string::npos;
  if (info.frames != config.n_samples) {
    fail((truncated ? "truncated file: only " : "") + std::to_string(info.frames) +
         " samples, expected " + std::to_string(config.n_samples));
  }
  // Default normalisation: PCM16 -> float divides by 32768 exactly, as librosa.load does.
  const sf_count_t read = sf_readf_float(handle.get(), out.data(), info.frames);
  if (read != info.frames)
    fail("truncated or corrupt: read " + std::to_string(read) + " of " +
         std::to_string(info.frames) + " samples (" + sf_strerror(handle.get()) + ")");
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i]))
      fail("non-finite sample (" + std::string(std::isnan(out[i]) ? "NaN" : "Inf") + ") at index " +
           std::to_string(i));
  }
}

std::vector<float> read_note_audio(const Example& e, const DataConfig& config) {
  std::vector<float> samples(static_cast<std::size_t>(config.n_samples));
  read_note_audio(e, config, samples);
  return samples;
}

}  // namespace cfma::data
