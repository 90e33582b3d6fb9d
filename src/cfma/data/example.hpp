#pragma once
// One NSynth note: every field of an examples.json entry (jsonwav layout) plus the path of
// its wav. The code <-> name tables are NSynth's own (magenta/nsynth README).
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cfma::data {

struct Example {
  std::int64_t note = 0;               // unique id of the note in the dataset
  std::string note_str;                // e.g. "guitar_acoustic_010-060-100"; also the wav's stem
  std::int64_t instrument = 0;         // unique id of the instrument
  std::string instrument_str;          // e.g. "guitar_acoustic_010"
  int pitch = 0;                       // MIDI 0..127
  int velocity = 0;                    // MIDI 0..127
  int sample_rate = 0;                 // Hz, as the entry states it
  int instrument_source = 0;           // 0 acoustic, 1 electronic, 2 synthetic
  std::string instrument_source_str;
  int instrument_family = 0;           // 0 bass .. 10 vocal (see nsynth_family_names)
  std::string instrument_family_str;
  std::array<std::uint8_t, 10> qualities{};  // binary flags, order of nsynth_quality_names
  std::vector<std::string> qualities_str;    // names of the set flags
  std::filesystem::path wav;           // root/audio/<note_str>.wav (not part of examples.json)

  bool operator==(const Example&) const = default;
};

// NSynth's code tables: index = code.
const std::vector<std::string>& nsynth_family_names();   // bass, brass, ..., vocal (11)
const std::vector<std::string>& nsynth_source_names();   // acoustic, electronic, synthetic
const std::vector<std::string>& nsynth_quality_names();  // bright, dark, ..., tempo-synced (10)
// Code of a family / source name, or -1 when the name is not one of NSynth's.
int nsynth_family_code(std::string_view name);
int nsynth_source_code(std::string_view name);

// The entry as NSynth writes it in examples.json (no "wav" key). Keys come out sorted
// (nlohmann's default object), so the text is stable.
nlohmann::json to_nsynth_json(const Example& e);
// Parses one examples.json entry, checking that every field is present with the right type.
// Throws DataError "<where>: <note_str>: <problem with key>" (the wav path is left empty).
Example example_from_nsynth_json(const nlohmann::json& entry, std::string_view key,
                                 std::string_view where);

// Full round trip including "wav" (the preprocess job broadcasts selections as JSON).
void to_json(nlohmann::json& j, const Example& e);
void from_json(const nlohmann::json& j, Example& e);

}  // namespace cfma::data
