#include "cfma/data/example.hpp"

#include <algorithm>
#include <limits>

#include "cfma/core/error.hpp"

namespace cfma::data {

const std::vector<std::string>& nsynth_family_names() {
  static const std::vector<std::string> names = {
      "bass", "brass", "flute", "guitar", "keyboard", "mallet",
      "organ", "reed", "string", "synth_lead", "vocal"};
  return names;
}

const std::vector<std::string>& nsynth_source_names() {
  static const std::vector<std::string> names = {"acoustic", "electronic", "synthetic"};
  return names;
}

const std::vector<std::string>& nsynth_quality_names() {
  static const std::vector<std::string> names = {
      "bright", "dark", "distortion", "fast_decay", "long_release",
      "multiphonic", "nonlinear_env", "percussive", "reverb", "tempo-synced"};
  return names;
}

namespace {

int index_of(const std::vector<std::string>& names, std::string_view name) {
  const auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}

// Field access with one error format: "<where>: <note>: key '<k>' <problem>".
class EntryReader {
 public:
  EntryReader(const nlohmann::json& entry, std::string note, std::string_view where)
      : entry_(entry), note_(std::move(note)), where_(where) {}

  [[noreturn]] void fail(std::string_view key, const std::string& problem) const {
    throw DataError(std::string(where_) + ": " + note_ + ": key '" + std::string(key) + "' " +
                    problem);
  }

  const nlohmann::json& field(std::string_view key) const {
    const auto it = entry_.find(key);
    if (it == entry_.end()) fail(key, "is missing");
    return *it;
  }

  std::int64_t integer(std::string_view key, std::int64_t lo, std::int64_t hi) const {
    const auto& v = field(key);
    if (!v.is_number_integer()) fail(key, "must be an integer, got " + std::string(v.type_name()));
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
      fail(key, "is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    const auto x = v.get<std::int64_t>();
    if (x < lo || x > hi)
      fail(key, "= " + std::to_string(x) + " is out of range [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]");
    return x;
  }

  std::string text(std::string_view key) const {
    const auto& v = field(key);
    if (!v.is_string()) fail(key, "must be a string, got " + std::string(v.type_name()));
    return v.get<std::string>();
  }

 private:
  const nlohmann::json& entry_;
  std::string note_;
  std::string_view where_;
};

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

}  // namespace

int nsynth_family_code(std::string_view name) { return index_of(nsynth_family_names(), name); }
int nsynth_source_code(std::string_view name) { return index_of(nsynth_source_names(), name); }

nlohmann::json to_nsynth_json(const Example& e) {
  nlohmann::json j = nlohmann::json::object();
  j["note"] = e.note;
  j["note_str"] = e.note_str;
  j["instrument"] = e.instrument;
  j["instrument_str"] = e.instrument_str;
  j["pitch"] = e.pitch;
  j["velocity"] = e.velocity;
  j["sample_rate"] = e.sample_rate;
  j["instrument_source"] = e.instrument_source;
  j["instrument_source_str"] = e.instrument_source_str;
  j["instrument_family"] = e.instrument_family;
  j["instrument_family_str"] = e.instrument_family_str;
  auto& q = j["qualities"] = nlohmann::json::array();
  for (auto flag : e.qualities) q.push_back(static_cast<int>(flag));
  j["qualities_str"] = e.qualities_str;
  return j;
}

Example example_from_nsynth_json(const nlohmann::json& entry, std::string_view key,
                                 std::string_view where) {
  const std::string name = key.empty() ? std::string("<entry>") : std::string(key);
  if (!entry.is_object())
    throw DataError(std::string(where) + ": " + name + ": entry must be an object, got " +
                    entry.type_name());
  const EntryReader r(entry, name, where);
  Example e;
  e.note_str = r.text("note_str");
  if (!key.empty() && e.note_str != key) r.fail("note_str", "= '" + e.note_str + "' differs from the entry's key");
  e.note = r.integer("note", 0, kMaxId);
  e.instrument = r.integer("instrument", 0, kMaxId);
  e.instrument_str = r.text("instrument_str");
  e.pitch = static_cast<int>(r.integer("pitch", 0, 127));
  e.velocity = static_cast<int>(r.integer("velocity", 0, 127));
  e.sample_rate = static_cast<int>(r.integer("sample_rate", 1, 10'000'000));

  const auto& sources = nsynth_source_names();
  e.instrument_source = static_cast<int>(r.integer("instrument_source", 0,
                                                   static_cast<std::int64_t>(sources.size()) - 1));
  e.instrument_source_str = r.text("instrument_source_str");
  if (e.instrument_source_str != sources[e.instrument_source])
    r.fail("instrument_source_str", "= '" + e.instrument_source_str + "' does not match code " +
                                        std::to_string(e.instrument_source) + " ('" +
                                        sources[e.instrument_source] + "')");

  const auto& families = nsynth_family_names();
  e.instrument_family = static_cast<int>(r.integer("instrument_family", 0,
                                                   static_cast<std::int64_t>(families.size()) - 1));
  e.instrument_family_str = r.text("instrument_family_str");
  if (e.instrument_family_str != families[e.instrument_family])
    r.fail("instrument_family_str", "= '" + e.instrument_family_str + "' does not match code " +
                                        std::to_string(e.instrument_family) + " ('" +
                                        families[e.instrument_family] + "')");

  const auto& q = r.field("qualities");
  if (!q.is_array() || q.size() != e.qualities.size())
    r.fail("qualities", "must be an array of 10 flags");
  for (std::size_t i = 0; i < e.qualities.size(); ++i) {
    if (!q[i].is_number_integer() || q[i].get<std::int64_t>() < 0 || q[i].get<std::int64_t>() > 1)
      r.fail("qualities", "element " + std::to_string(i) + " must be 0 or 1");
    e.qualities[i] = static_cast<std::uint8_t>(q[i].get<int>());
  }
  const auto& qs = r.field("qualities_str");
  if (!qs.is_array()) r.fail("qualities_str", "must be an array of strings");
  for (const auto& s : qs) {
    if (!s.is_string()) r.fail("qualities_str", "must be an array of strings");
    e.qualities_str.push_back(s.get<std::string>());
  }
  return e;
}

void to_json(nlohmann::json& j, const Example& e) {
  j = to_nsynth_json(e);
  j["wav"] = e.wav.string();
}

void from_json(const nlohmann::json& j, Example& e) {
  e = example_from_nsynth_json(j, "", "example JSON");
  const auto it = j.find("wav");
  if (it == j.end() || !it->is_string())
    throw DataError("example JSON: " + e.note_str + ": key 'wav' is missing or not a string");
  e.wav = it->get<std::string>();
}

}  // namespace cfma::data
