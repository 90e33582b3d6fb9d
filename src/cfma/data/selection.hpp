#pragma once
// The example list of a pipeline, fixed on rank 0 and broadcast (design: Sharding):
//   scan (sorted by note_str) -> keep data.sources, drop data.exclude_families
//   -> if data.subsample > 0: legacy-numpy choice(n, subsample) with subsample_seed, kept in
//      note_str order (Q2: the paper's unseeded draw from os.walk order cannot be mirrored)
//   -> split (data.split); train = the rest, ascending; test ascending, or in the draw's order
//      when test_order = "numpy" (Q3):
//      "note" (default): test = permutation(n)[:round(test_fraction * n)] with split_seed (the
//        paper's np.random.seed(17); choice(50000, 15000, replace=False)); draw order = the
//        permutation's.
//      "instrument": instrument-disjoint, stratified by family. One legacy state seeded with
//        split_seed draws, for each family in ascending code, a permutation of that family's
//        k distinct instrument ids (ascending); the first clamp(round(test_fraction * k), 1,
//        k - 1) of them go to test (round = half to even, as test_count), so both splits hold
//        every family. numpy: np.random.seed(split_seed); then per family in ascending code
//        ids = sorted instrument ids; p = np.random.permutation(len(ids)); test += ids[p[:m]].
//        Draw order = families ascending, instruments as drawn, each instrument's notes in
//        note_str order. A family with fewer than 2 instruments, or an instrument with notes in
//        two families, is a DataError.
//      "official": test = the notes from <root>/nsynth-test, train = those from nsynth-train
//        (scan_official); test_fraction, split_seed and test_order do not apply. The filters
//        and the subsample draw work on the union of both folders in note_str order, and every
//        drawn note keeps its folder (so a subsample is proportional to the folders in
//        expectation, not exactly). Either side left empty is a DataError.
// Family labels: the family codes present, sorted ascending -> 0..K-1 (sklearn LabelEncoder on
// the codes, fit once on the whole selection: Q22).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfma/data/data_config.hpp"
#include "cfma/data/example.hpp"
#include "cfma/data/nsynth.hpp"

namespace cfma::data {

struct Selection {
  std::vector<Example> examples;         // the selected notes; row i of every feature array
  std::vector<std::int64_t> train;       // indices into examples, ascending
  std::vector<std::int64_t> test;        // indices into examples (order: data.test_order)
  std::vector<int> family_codes;         // NSynth codes present, ascending; label = position
  std::vector<std::string> family_names; // names of family_codes
  std::vector<Problem> skipped;          // scan problems skipped under on_error = "skip"
};

// Throws DataError when the scan has problems and on_error = "fail" (naming the first), when
// nothing survives the filters (naming data.sources / data.exclude_families), when
// data.subsample exceeds the notes left, or when data.split cannot be made (above).
Selection select_examples(const DatasetScan& scan, const DataConfig& config);

// The family label (0..K-1) of an example; throws DataError for a family not in the selection.
int family_label(const Selection& selection, const Example& example);
// Labels of all examples, in selection order.
std::vector<int> family_labels(const Selection& selection);

// test count = round half to even (Python's round) of test_fraction * n.
std::int64_t test_count(std::int64_t n, double test_fraction);

void to_json(nlohmann::json& j, const Selection& s);
void from_json(const nlohmann::json& j, Selection& s);

}  // namespace cfma::data
