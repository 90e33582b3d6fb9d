// Selection and split: legacy numpy RandomState bit-exactness (against numpy 1.24 output in
// tests/data/numpy_*.txt, see README.md), filtering, subsampling, split counts, label
// encoding, [data] parsing.
#include <gtest/gtest.h>

#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include "cfma/core/error.hpp"
#include "cfma/data/legacy_random.hpp"
#include "cfma/data/selection.hpp"
#include "tests/test_paths.hpp"

namespace cfma::data {
namespace {

namespace fs = std::filesystem;

std::vector<std::vector<std::int64_t>> read_rows(const std::string& name) {
  std::ifstream in(test::source_dir() / "tests" / "data" / name);
  EXPECT_TRUE(in.good()) << name;
  std::vector<std::vector<std::int64_t>> rows;
  for (std::string line; std::getline(in, line);) {
    std::istringstream s(line);
    std::vector<std::int64_t> row;
    for (std::int64_t v; s >> v;) row.push_back(v);
    if (!row.empty()) rows.push_back(row);
  }
  return rows;
}

TEST(LegacyRandomState, PermutationMatchesNumpy) {
  const auto rows = read_rows("numpy_permutation_first50.txt");
  ASSERT_EQ(rows.size(), 10u);
  for (const auto& row : rows) {
    const auto seed = static_cast<std::uint32_t>(row[0]);
    const auto n = row[1];
    const std::vector<std::int64_t> expected(row.begin() + 2, row.end());
    ASSERT_EQ(static_cast<std::int64_t>(expected.size()), std::min<std::int64_t>(n, 50));
    auto perm = LegacyRandomState(seed).permutation(n);
    ASSERT_EQ(static_cast<std::int64_t>(perm.size()), n);
    perm.resize(expected.size());
    EXPECT_EQ(perm, expected) << "seed " << seed << " n " << n;
  }
}

TEST(LegacyRandomState, WholePermutationMatchesNumpy) {
  const auto rows = read_rows("numpy_permutation_s17_n1000.txt");
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows[0].size(), 1000u);
  EXPECT_EQ(LegacyRandomState(17).permutation(1000), rows[0]);
}

TEST(LegacyRandomState, PapersTestDrawMatchesNumpyChoice) {
  // np.random.seed(17); np.random.choice(50000, 15000, replace=False)  (PP[28])
  const auto rows = read_rows("numpy_choice_s17_n50000_k15000_first50.txt");
  ASSERT_EQ(rows.size(), 1u);
  auto chosen = LegacyRandomState(17).choice_without_replacement(50000, 15000);
  ASSERT_EQ(chosen.size(), 15000u);
  EXPECT_EQ(std::set<std::int64_t>(chosen.begin(), chosen.end()).size(), 15000u);
  chosen.resize(50);
  EXPECT_EQ(chosen, rows[0]);
}

TEST(LegacyRandomState, SeedingIsInitGenrand) {
  // numpy: np.random.seed(17); np.random.randint(0, 2**32, dtype=np.uint64) draws next_uint32.
  LegacyRandomState a(17);
  std::mt19937 b(17);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(a.next_uint32(), static_cast<std::uint32_t>(b()));
  LegacyRandomState c(5);
  for (int i = 0; i < 1000; ++i) EXPECT_LE(c.random_interval(6), 6u);
  EXPECT_EQ(c.random_interval(0), 0u);
}

Example note(const std::string& name, int family, int source) {
  Example e;
  e.note_str = name;
  e.instrument_family = family;
  e.instrument_family_str = nsynth_family_names()[static_cast<std::size_t>(family)];
  e.instrument_source = source;
  e.instrument_source_str = nsynth_source_names()[static_cast<std::size_t>(source)];
  e.sample_rate = 16000;
  return e;
}

// 100 notes: families cycle through all 11 codes, sources through 0,0,1,2 -> mixed filter.
DatasetScan synthetic_scan() {
  DatasetScan scan;
  scan.root = "/synthetic";
  for (int i = 0; i < 100; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "n%03d", i);
    scan.examples.push_back(note(name, i % 11, (i % 4 == 1) ? 1 : (i % 4 == 2 ? 2 : 0)));
  }
  return scan;
}

TEST(Selection, NsynthMiniDefaultSplit) {
  const auto scan = scan_dataset(test::shared_dir() / "reference" / "nsynth-mini");
  const DataConfig config;
  const auto sel = select_examples(scan, config);
  ASSERT_EQ(sel.examples.size(), 24u);
  EXPECT_EQ(sel.family_codes, (std::vector<int>{1, 2, 3, 4, 5, 7, 8, 10}));
  EXPECT_EQ(sel.family_names, (std::vector<std::string>{"brass", "flute", "guitar", "keyboard",
                                                         "mallet", "reed", "string", "vocal"}));
  // 3 notes per family, in note_str order -> labels 0,0,0,1,1,1,...,7,7,7 (the paper's table).
  const auto labels = family_labels(sel);
  for (std::size_t i = 0; i < labels.size(); ++i) EXPECT_EQ(labels[i], static_cast<int>(i / 3));
  EXPECT_EQ(family_label(sel, sel.examples[21]), 7);
  // round(0.3 * 24) = 7 test notes: np.random.seed(17); np.random.permutation(24)[:7]
  //   = [10, 0, 21, 11, 5, 18, 20]
  EXPECT_EQ(sel.test, (std::vector<std::int64_t>{0, 5, 10, 11, 18, 20, 21}));
  ASSERT_EQ(sel.train.size(), 17u);
  EXPECT_TRUE(std::is_sorted(sel.train.begin(), sel.train.end()));
  auto numpy_order = config;
  numpy_order.test_order = TestOrder::numpy;
  const auto sel_numpy = select_examples(scan, numpy_order);
  EXPECT_EQ(sel_numpy.test, (std::vector<std::int64_t>{10, 0, 21, 11, 5, 18, 20}));
  EXPECT_EQ(sel_numpy.train, sel.train);
}

TEST(Selection, FiltersSubsamplesAndSplits) {
  const auto scan = synthetic_scan();
  DataConfig config;  // acoustic only, no bass (0) / organ (6)
  auto sel = select_examples(scan, config);
  std::vector<const Example*> expected;
  for (const auto& e : scan.examples)
    if (e.instrument_source == 0 && e.instrument_family != 0 && e.instrument_family != 6) expected.push_back(&e);
  ASSERT_EQ(sel.examples.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(sel.examples[i].note_str, expected[i]->note_str);
  EXPECT_EQ(sel.family_codes, (std::vector<int>{1, 2, 3, 4, 5, 7, 8, 9, 10}));

  const auto n = static_cast<std::int64_t>(expected.size());
  EXPECT_EQ(static_cast<std::int64_t>(sel.test.size()), test_count(n, 0.3));
  EXPECT_EQ(sel.train.size() + sel.test.size(), sel.examples.size());
  std::vector<std::int64_t> all(sel.train);
  all.insert(all.end(), sel.test.begin(), sel.test.end());
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> iota(static_cast<std::size_t>(n));
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(all, iota);

  // Subsample: legacy choice of 20 of the kept notes, returned in note_str order.
  config.subsample = 20;
  config.subsample_seed = 3;
  sel = select_examples(scan, config);
  ASSERT_EQ(sel.examples.size(), 20u);
  auto chosen = LegacyRandomState(3).choice_without_replacement(n, 20);
  std::sort(chosen.begin(), chosen.end());
  for (std::size_t i = 0; i < 20; ++i)
    EXPECT_EQ(sel.examples[i].note_str, expected[static_cast<std::size_t>(chosen[i])]->note_str);
  EXPECT_EQ(sel.test.size(), 6u);
  EXPECT_EQ(sel.train.size(), 14u);

  // Sources and families given as codes behave alike; everything kept with no exclusion.
  config = DataConfig{};
  config.sources = {0, 1, 2};
  config.exclude_families = {};
  config.test_fraction = 0.25;
  sel = select_examples(scan, config);
  EXPECT_EQ(sel.examples.size(), 100u);
  EXPECT_EQ(sel.test.size(), 25u);
  EXPECT_EQ(sel.family_codes.size(), 11u);
}

TEST(Selection, TestCountRoundsHalfToEvenLikePython) {
  EXPECT_EQ(test_count(50000, 0.3), 15000);
  EXPECT_EQ(test_count(5, 0.5), 2);   // round(2.5) = 2
  EXPECT_EQ(test_count(7, 0.5), 4);   // round(3.5) = 4
  EXPECT_EQ(test_count(10, 0.0), 0);
  EXPECT_EQ(test_count(10, 1.0), 10);
}

TEST(Selection, EmptySelectionNamesTheKeys) {
  const auto scan = scan_dataset(test::shared_dir() / "reference" / "nsynth-mini");
  DataConfig config;
  config.sources = {1};
  try {
    select_examples(scan, config);
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("nsynth-mini: no notes left of 24"), std::string::npos) << msg;
    EXPECT_NE(msg.find("data.sources = [\"electronic\"]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("data.exclude_families = [\"bass\", \"organ\"]"), std::string::npos) << msg;
  }
  config = DataConfig{};
  config.subsample = 25;
  try {
    select_examples(scan, config);
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("data.subsample = 25 exceeds the 24 notes"), std::string::npos) << e.what();
  }
}

TEST(Selection, ProblemsFollowOnErrorPolicy) {
  auto scan = synthetic_scan();
  scan.problems.push_back({"n999", "/synthetic/audio/n999.wav", "wav has no entry in /synthetic/examples.json"});
  DataConfig config;
  const auto sel = select_examples(scan, config);
  ASSERT_EQ(sel.skipped.size(), 1u);
  EXPECT_EQ(sel.skipped[0].note_str, "n999");
  config.on_error = OnError::fail;
  try {
    select_examples(scan, config);
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("/synthetic/audio/n999.wav: wav has no entry"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("data.on_error = \"fail\""), std::string::npos) << e.what();
  }
}

TEST(Selection, JsonRoundTrip) {
  auto scan = synthetic_scan();
  scan.problems.push_back({"n999", "/synthetic/audio/n999.wav", "missing"});
  const auto sel = select_examples(scan, DataConfig{});
  const nlohmann::json j = sel;
  const auto back = nlohmann::json::parse(j.dump()).get<Selection>();
  EXPECT_EQ(back.examples, sel.examples);
  EXPECT_EQ(back.train, sel.train);
  EXPECT_EQ(back.test, sel.test);
  EXPECT_EQ(back.family_codes, sel.family_codes);
  EXPECT_EQ(back.family_names, sel.family_names);
  EXPECT_EQ(back.skipped, sel.skipped);
}

TEST(DataConfig, DefaultsNamesAndCodes) {
  auto c = parse_data_config(ConfigDoc::from_string(""));
  EXPECT_EQ(c.root, fs::path("data/nsynth"));
  EXPECT_EQ(c.sources, (std::vector<int>{0}));
  EXPECT_EQ(c.exclude_families, (std::vector<int>{0, 6}));
  EXPECT_EQ(c.subsample, 0);
  EXPECT_EQ(c.subsample_seed, 1u);
  EXPECT_DOUBLE_EQ(c.test_fraction, 0.3);
  EXPECT_EQ(c.split_seed, 17u);
  EXPECT_EQ(c.test_order, TestOrder::sorted);
  EXPECT_EQ(c.on_error, OnError::skip);
  EXPECT_EQ(c.sample_rate, 16000);
  EXPECT_EQ(c.n_samples, 64000);

  const auto doc = ConfigDoc::from_string(
      "[data]\nroot = \"/nsynth/train\"\nsources = [0, 2]\nexclude_families = [\"organ\", \"bass\", \"vocal\"]\n"
      "subsample = 50000\nsubsample_seed = 4\ntest_fraction = 0.25\nsplit_seed = 9\n"
      "test_order = \"numpy\"\non_error = \"fail\"\n");
  c = parse_data_config(doc);
  doc.check_unknown_keys();
  EXPECT_EQ(c.root, fs::path("/nsynth/train"));
  EXPECT_EQ(c.sources, (std::vector<int>{0, 2}));
  EXPECT_EQ(c.exclude_families, (std::vector<int>{0, 6, 10}));
  EXPECT_EQ(c.subsample, 50000);
  EXPECT_EQ(c.subsample_seed, 4u);
  EXPECT_DOUBLE_EQ(c.test_fraction, 0.25);
  EXPECT_EQ(c.split_seed, 9u);
  EXPECT_EQ(c.test_order, TestOrder::numpy);
  EXPECT_EQ(c.on_error, OnError::fail);
  const auto j = to_json(c);
  EXPECT_EQ(j.at("sources"), nlohmann::json({"acoustic", "synthetic"}));
  EXPECT_EQ(j.at("exclude_families"), nlohmann::json({"bass", "organ", "vocal"}));
  EXPECT_EQ(j.at("test_order"), "numpy");
  EXPECT_EQ(j.at("split_seed"), 9);
}

TEST(DataConfig, BadValuesNameTheKey) {
  const auto expect_config_error = [](const std::string& toml, const std::string& needle) {
    try {
      parse_data_config(ConfigDoc::from_string(toml, "demo.toml"));
      ADD_FAILURE() << "no ConfigError for " << toml;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_config_error("[data]\nexclude_families = [\"bras\"]\n", "demo.toml:2: data.exclude_families[0]: 'bras' is not an NSynth family");
  expect_config_error("[data]\nsources = [7]\n", "data.sources");
  expect_config_error("[data]\nsources = [\"acoustic\", 1]\n", "names or codes");
  expect_config_error("[data]\ntest_order = \"random\"\n", "data.test_order");
  expect_config_error("[data]\ntest_fraction = 1.5\n", "data.test_fraction");
  expect_config_error("[data]\nsubsample = -1\n", "data.subsample");
}

}  // namespace
}  // namespace cfma::data
