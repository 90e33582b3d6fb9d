#include "cfma/data/data_config.hpp"

#include <algorithm>

#include "cfma/core/error.hpp"
#include "cfma/core/text.hpp"
#include "cfma/data/example.hpp"

namespace cfma::data {

namespace {

// A list of NSynth codes given as names ("acoustic") or integer codes (0): the paper's
// notebooks used codes, the NSynth README names; both read naturally in a config.
std::vector<int> parse_code_list(const ConfigSection& s,
                                 std::string_view key, const std::vector<int>& fallback,
                                 const std::vector<std::string>& names, std::string_view what) {
  std::vector<std::string> fallback_names;
  for (int c : fallback) fallback_names.push_back(names[static_cast<std::size_t>(c)]);
  std::vector<int> codes;
  std::vector<std::string> given;
  try {
    given = s.get_string_list(key, fallback_names);
  } catch (const ConfigError&) {  // not strings: then it must be a list of codes
    try {
      for (auto c : s.get_int_list(key, {}, between(0, static_cast<double>(names.size()) - 1)))
        codes.push_back(static_cast<int>(c));
    } catch (const ConfigError& as_codes) {
      throw ConfigError(std::string(as_codes.what()) + " (give " + std::string(what) +
                        " names or codes 0.." + std::to_string(names.size() - 1) + ")");
    }
  }
  for (std::size_t i = 0; i < given.size(); ++i) {
    const auto it = std::find(names.begin(), names.end(), given[i]);
    if (it == names.end())
      s.fail_element(key, i, "'" + given[i] + "' is not an NSynth " + std::string(what) + " (" + join(names) + ")");
    codes.push_back(static_cast<int>(it - names.begin()));
  }
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  return codes;
}

std::vector<std::string> names_of(const std::vector<int>& codes, const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (int c : codes) out.push_back(names[static_cast<std::size_t>(c)]);
  return out;
}

}  // namespace

std::string to_string(Split split) {
  switch (split) {
    case Split::instrument: return "instrument";
    case Split::official: return "official";
    case Split::note: break;
  }
  return "note";
}

std::string to_string(TestOrder order) { return order == TestOrder::numpy ? "numpy" : "sorted"; }
std::string to_string(OnError policy) { return policy == OnError::fail ? "fail" : "skip"; }

DataConfig parse_data_config(const ConfigDoc& doc) {
  const auto s = doc.section("data");
  DataConfig c;
  c.root = s.get_path("root", c.root);
  c.sources = parse_code_list(s, "sources", c.sources, nsynth_source_names(), "source");
  if (c.sources.empty()) s.fail("sources", "empty list: no note could be selected");
  c.exclude_families = parse_code_list(s, "exclude_families", c.exclude_families,
                                       nsynth_family_names(), "family");
  c.subsample = s.get_int("subsample", c.subsample, at_least(0));
  c.subsample_seed = static_cast<std::uint32_t>(
      s.get_int("subsample_seed", c.subsample_seed, between(0, 4294967295.0)));
  const auto split = s.get_choice("split", to_string(c.split), {"note", "instrument", "official"});
  c.split = split == "instrument" ? Split::instrument : split == "official" ? Split::official : Split::note;
  c.test_fraction = s.get_double("test_fraction", c.test_fraction, greater_than(0));
  if (c.test_fraction >= 1) s.fail("test_fraction", "must be below 1 (both splits need notes)");
  c.split_seed = static_cast<std::uint32_t>(
      s.get_int("split_seed", c.split_seed, between(0, 4294967295.0)));
  c.test_order = s.get_choice("test_order", to_string(c.test_order), {"sorted", "numpy"}) == "numpy"
                     ? TestOrder::numpy
                     : TestOrder::sorted;
  c.on_error = s.get_choice("on_error", to_string(c.on_error), {"skip", "fail"}) == "fail"
                   ? OnError::fail
                   : OnError::skip;
  c.sample_rate = static_cast<int>(s.get_int("sample_rate", c.sample_rate, between(1, 1e7)));
  c.n_samples = s.get_int("n_samples", c.n_samples, at_least(1));
  return c;
}

nlohmann::json to_json(const DataConfig& c) {
  nlohmann::json j = {{"root", c.root.string()},
                      {"sources", names_of(c.sources, nsynth_source_names())},
                      {"exclude_families", names_of(c.exclude_families, nsynth_family_names())},
                      {"subsample", c.subsample},
                      {"subsample_seed", c.subsample_seed},
                      {"test_fraction", c.test_fraction},
                      {"split_seed", c.split_seed},
                      {"test_order", to_string(c.test_order)},
                      {"on_error", to_string(c.on_error)},
                      {"sample_rate", c.sample_rate},
                      {"n_samples", c.n_samples}};
  if (c.split != Split::note) j["split"] = to_string(c.split);
  return j;
}

}  // namespace cfma::data
