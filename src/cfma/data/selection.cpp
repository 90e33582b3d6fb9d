#include "cfma/data/selection.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "cfma/core/error.hpp"
#include "cfma/core/log.hpp"
#include "cfma/data/legacy_random.hpp"

namespace cfma::data {

namespace {

std::string list_names(const std::vector<int>& codes, const std::vector<std::string>& names) {
  std::string out = "[";
  for (std::size_t i = 0; i < codes.size(); ++i)
    out += (i ? ", " : "") + std::string("\"") + names[static_cast<std::size_t>(codes[i])] + "\"";
  return out + "]";
}

bool contains(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

const std::string& family_name(int code) { return nsynth_family_names()[static_cast<std::size_t>(code)]; }

// split = "note": test = permutation(n)[:round(test_fraction * n)], in the permutation's order.
std::vector<std::int64_t> note_split_test(std::int64_t n, const DataConfig& config) {
  auto test = LegacyRandomState(config.split_seed).permutation(n);
  test.resize(static_cast<std::size_t>(test_count(n, config.test_fraction)));
  return test;
}

// split = "instrument" (see selection.hpp): the test notes in draw order.
std::vector<std::int64_t> instrument_split_test(const std::vector<Example>& examples, const DataConfig& config,
                                                const std::string& where) {
  std::map<std::int64_t, const Example*> first_note_of;  // instrument -> its first note
  std::map<std::int64_t, std::vector<std::int64_t>> notes_of;  // instrument -> its notes, ascending
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const auto& e = examples[i];
    const auto [it, inserted] = first_note_of.emplace(e.instrument, &e);
    if (!inserted && it->second->instrument_family != e.instrument_family)
      throw DataError(where + ": data.split = \"instrument\": instrument " + std::to_string(e.instrument) +
                      " has notes in families \"" + family_name(it->second->instrument_family) + "\" (" +
                      it->second->note_str + ") and \"" + family_name(e.instrument_family) + "\" (" + e.note_str +
                      "), so the split by family cannot keep it in one split");
    notes_of[e.instrument].push_back(static_cast<std::int64_t>(i));
  }
  std::map<int, std::vector<std::int64_t>> instruments_of;  // family -> its instruments, ascending
  for (const auto& [instrument, first] : first_note_of) instruments_of[first->instrument_family].push_back(instrument);

  LegacyRandomState random(config.split_seed);  // one state for the whole draw
  std::vector<std::int64_t> test;
  for (const auto& [family, instruments] : instruments_of) {
    const auto k = static_cast<std::int64_t>(instruments.size());
    if (k < 2)
      throw DataError(where + ": data.split = \"instrument\": family \"" + family_name(family) + "\" has " +
                      std::to_string(k) + " instrument in the selection (" +
                      first_note_of.at(instruments.front())->instrument_str +
                      "); each split needs one of its own: use data.split = \"note\" or add instruments of that family");
    const auto order = random.permutation(k);
    const auto n_test = std::clamp<std::int64_t>(test_count(k, config.test_fraction), 1, k - 1);
    for (std::int64_t i = 0; i < n_test; ++i) {
      const auto& notes = notes_of.at(instruments[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])]);
      test.insert(test.end(), notes.begin(), notes.end());
    }
  }
  return test;
}

// split = "official": the notes that came from nsynth-test, ascending.
std::vector<std::int64_t> official_split_test(const std::vector<Example>& examples, const DatasetScan& scan) {
  std::vector<std::int64_t> test;
  for (std::size_t i = 0; i < examples.size(); ++i)
    if (std::binary_search(scan.official_test.begin(), scan.official_test.end(), examples[i].note_str))
      test.push_back(static_cast<std::int64_t>(i));
  return test;
}

}  // namespace

std::int64_t test_count(std::int64_t n, double test_fraction) {
  // nearbyint rounds half to even in the default rounding mode, like Python's round().
  return std::clamp<std::int64_t>(static_cast<std::int64_t>(std::nearbyint(test_fraction * static_cast<double>(n))),
                                  0, n);
}

Selection select_examples(const DatasetScan& scan, const DataConfig& config) {
  Selection sel;
  if (!scan.problems.empty()) {
    if (config.on_error == OnError::fail)
      throw DataError(to_string(scan.problems.front()) + " (" + std::to_string(scan.problems.size()) +
                      " problem(s) in " + scan.root.string() + "; data.on_error = \"fail\")");
    for (const auto& p : scan.problems) spdlog::warn("skipping {}", to_string(p));
    sel.skipped = scan.problems;
  }

  std::vector<const Example*> kept;
  for (const auto& e : scan.examples) {
    if (contains(config.sources, e.instrument_source) &&
        !contains(config.exclude_families, e.instrument_family))
      kept.push_back(&e);
  }
  if (kept.empty())
    throw DataError(scan.root.string() + ": no notes left of " + std::to_string(scan.examples.size()) +
                    " after filtering by data.sources = " +
                    list_names(config.sources, nsynth_source_names()) +
                    " and data.exclude_families = " +
                    list_names(config.exclude_families, nsynth_family_names()));

  const auto n_kept = static_cast<std::int64_t>(kept.size());
  if (config.subsample > 0) {
    if (config.subsample > n_kept)
      throw DataError(scan.root.string() + ": data.subsample = " + std::to_string(config.subsample) +
                      " exceeds the " + std::to_string(n_kept) + " notes left after filtering");
    auto chosen = LegacyRandomState(config.subsample_seed).choice_without_replacement(n_kept, config.subsample);
    std::sort(chosen.begin(), chosen.end());
    for (auto i : chosen) sel.examples.push_back(*kept[static_cast<std::size_t>(i)]);
  } else {
    for (const auto* e : kept) sel.examples.push_back(*e);
  }

  const auto n = static_cast<std::int64_t>(sel.examples.size());
  const auto where = scan.root.string();
  switch (config.split) {
    case Split::note: sel.test = note_split_test(n, config); break;
    case Split::instrument: sel.test = instrument_split_test(sel.examples, config, where); break;
    case Split::official: sel.test = official_split_test(sel.examples, scan); break;
  }
  std::vector<bool> in_test(static_cast<std::size_t>(n), false);
  for (auto i : sel.test) in_test[static_cast<std::size_t>(i)] = true;
  for (std::int64_t i = 0; i < n; ++i)
    if (!in_test[static_cast<std::size_t>(i)]) sel.train.push_back(i);
  if (config.test_order == TestOrder::sorted) std::sort(sel.test.begin(), sel.test.end());
  if (config.split == Split::official && (sel.train.empty() || sel.test.empty()))
    throw DataError(where + ": data.split = \"official\": no " + (sel.train.empty() ? "nsynth-train" : "nsynth-test") +
                    " notes left of " + std::to_string(n) + " after filtering and subsampling");

  for (const auto& e : sel.examples) sel.family_codes.push_back(e.instrument_family);
  std::sort(sel.family_codes.begin(), sel.family_codes.end());
  sel.family_codes.erase(std::unique(sel.family_codes.begin(), sel.family_codes.end()), sel.family_codes.end());
  for (int c : sel.family_codes) sel.family_names.push_back(nsynth_family_names()[static_cast<std::size_t>(c)]);
  return sel;
}

int family_label(const Selection& selection, const Example& example) {
  const auto& codes = selection.family_codes;
  const auto it = std::lower_bound(codes.begin(), codes.end(), example.instrument_family);
  if (it == codes.end() || *it != example.instrument_family)
    throw DataError(example.note_str + ": family " + std::to_string(example.instrument_family) +
                    " is not among the selection's families");
  return static_cast<int>(it - codes.begin());
}

std::vector<int> family_labels(const Selection& selection) {
  std::vector<int> labels;
  labels.reserve(selection.examples.size());
  for (const auto& e : selection.examples) labels.push_back(family_label(selection, e));
  return labels;
}

void to_json(nlohmann::json& j, const Selection& s) {
  j = {{"examples", s.examples},         {"train", s.train},
       {"test", s.test},                 {"family_codes", s.family_codes},
       {"family_names", s.family_names}, {"skipped", s.skipped}};
}

void from_json(const nlohmann::json& j, Selection& s) {
  s.examples = j.at("examples").get<std::vector<Example>>();
  s.train = j.at("train").get<std::vector<std::int64_t>>();
  s.test = j.at("test").get<std::vector<std::int64_t>>();
  s.family_codes = j.at("family_codes").get<std::vector<int>>();
  s.family_names = j.at("family_names").get<std::vector<std::string>>();
  s.skipped = j.at("skipped").get<std::vector<Problem>>();
}

}  // namespace cfma::data
