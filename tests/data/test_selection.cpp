// Selection and split: legacy numpy RandomState bit-exactness (against numpy 1.24 output in
// tests/data/numpy_*.txt, see README.md), filtering, subsampling, split counts, the
// instrument-disjoint split (against README.md's numpy recipe), label encoding, [data] parsing.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <tuple>

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

// One acoustic instrument per (family, id), with 1 + id % 3 notes each; sorted by note_str as
// scan_dataset returns it.
DatasetScan instrument_scan(const std::vector<std::pair<int, std::int64_t>>& instruments) {
  DatasetScan scan;
  scan.root = "/synthetic";
  for (const auto& [family, id] : instruments) {
    for (std::int64_t k = 0; k <= id % 3; ++k) {
      char instrument_str[48], name[64];
      std::snprintf(instrument_str, sizeof instrument_str, "%s_acoustic_%03lld",
                    nsynth_family_names()[static_cast<std::size_t>(family)].c_str(), static_cast<long long>(id));
      std::snprintf(name, sizeof name, "%s-%03lld-100", instrument_str, static_cast<long long>(40 + 2 * k));
      auto e = note(name, family, 0);
      e.instrument = id;
      e.instrument_str = instrument_str;
      e.pitch = static_cast<int>(40 + 2 * k);
      scan.examples.push_back(e);
    }
  }
  std::sort(scan.examples.begin(), scan.examples.end(),
            [](const Example& a, const Example& b) { return a.note_str < b.note_str; });
  return scan;
}

// The families and instrument ids of tests/data/README.md's instrument-split recipe.
DatasetScan recipe_scan() {
  return instrument_scan({{1, 913}, {1, 5}, {1, 100}, {1, 77}, {2, 8}, {2, 3}, {3, 16}, {3, 10}, {3, 11},
                          {3, 12}, {3, 13}, {3, 14}, {3, 15}, {5, 20}, {5, 21}, {5, 22}, {5, 23}, {5, 24},
                          {10, 40}, {10, 41}, {10, 42}});
}

// The instruments of `rows`, in order of first appearance.
std::vector<std::int64_t> instruments_of(const Selection& sel, const std::vector<std::int64_t>& rows) {
  std::vector<std::int64_t> out;
  for (auto i : rows) {
    const auto id = sel.examples[static_cast<std::size_t>(i)].instrument;
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

DataConfig instrument_config(std::uint32_t seed = 17, double test_fraction = 0.3) {
  DataConfig c;
  c.split = Split::instrument;
  c.split_seed = seed;
  c.test_fraction = test_fraction;
  return c;
}

TEST(InstrumentSplit, TestInstrumentsEqualTheNumpyRecipe) {
  // tests/data/README.md: np.random.seed(s); per family ascending, ids[permutation(k)[:m]].
  const auto scan = recipe_scan();
  const std::vector<std::tuple<std::uint32_t, double, std::vector<std::int64_t>>> recorded = {
      {17, 0.3, {5, 8, 14, 13, 21, 22, 42}},
      {18, 0.3, {913, 8, 16, 14, 20, 22, 41}},
      {17, 0.5, {5, 100, 8, 14, 13, 12, 15, 21, 22, 42, 40}}};
  for (const auto& [seed, fraction, expected] : recorded) {
    auto config = instrument_config(seed, fraction);
    config.test_order = TestOrder::numpy;
    const auto drawn = select_examples(scan, config);
    EXPECT_EQ(instruments_of(drawn, drawn.test), expected) << "seed " << seed << " test_fraction " << fraction;
    // numpy order: each instrument's notes together, in note_str order.
    for (std::size_t i = 1; i < drawn.test.size(); ++i) {
      const auto& a = drawn.examples[static_cast<std::size_t>(drawn.test[i - 1])];
      const auto& b = drawn.examples[static_cast<std::size_t>(drawn.test[i])];
      if (a.instrument == b.instrument) {
        EXPECT_LT(drawn.test[i - 1], drawn.test[i]);
      }
    }
    // sorted order: the same notes ascending, the same train.
    config.test_order = TestOrder::sorted;
    const auto sorted = select_examples(scan, config);
    auto expected_test = drawn.test;
    std::sort(expected_test.begin(), expected_test.end());
    EXPECT_EQ(sorted.test, expected_test);
    EXPECT_EQ(sorted.train, drawn.train);
  }
}

TEST(InstrumentSplit, DisjointStratifiedRoundedAndSeeded) {
  const auto scan = recipe_scan();
  for (const double fraction : {0.1, 0.3, 0.5, 0.9}) {
    const auto sel = select_examples(scan, instrument_config(17, fraction));
    ASSERT_EQ(sel.train.size() + sel.test.size(), sel.examples.size());
    EXPECT_TRUE(std::is_sorted(sel.train.begin(), sel.train.end()));
    EXPECT_TRUE(std::is_sorted(sel.test.begin(), sel.test.end()));
    std::set<std::int64_t> rows(sel.train.begin(), sel.train.end());
    rows.insert(sel.test.begin(), sel.test.end());
    EXPECT_EQ(rows.size(), sel.examples.size());

    std::map<int, std::set<std::int64_t>> train_instruments, test_instruments;
    for (auto i : sel.train) {
      const auto& e = sel.examples[static_cast<std::size_t>(i)];
      train_instruments[e.instrument_family].insert(e.instrument);
    }
    for (auto i : sel.test) {
      const auto& e = sel.examples[static_cast<std::size_t>(i)];
      test_instruments[e.instrument_family].insert(e.instrument);
    }
    ASSERT_EQ(train_instruments.size(), sel.family_codes.size()) << "every family in train, fraction " << fraction;
    ASSERT_EQ(test_instruments.size(), sel.family_codes.size()) << "every family in test, fraction " << fraction;
    for (int family : sel.family_codes) {
      const auto& train = train_instruments[family];
      const auto& test = test_instruments[family];
      for (auto id : test) EXPECT_EQ(train.count(id), 0u) << "instrument " << id << " in both splits";
      const auto k = static_cast<std::int64_t>(train.size() + test.size());
      EXPECT_EQ(static_cast<std::int64_t>(test.size()), std::clamp<std::int64_t>(test_count(k, fraction), 1, k - 1))
          << "family " << family << ", " << k << " instruments, fraction " << fraction;
    }
  }
  // round half to even per family: 5 instruments at 0.5 -> 2 (round(2.5)), 3 -> 2 (round(1.5)).
  const auto half = select_examples(scan, instrument_config(17, 0.5));
  std::map<int, std::set<std::int64_t>> test_instruments;
  for (auto i : half.test) {
    const auto& e = half.examples[static_cast<std::size_t>(i)];
    test_instruments[e.instrument_family].insert(e.instrument);
  }
  EXPECT_EQ(test_instruments[5].size(), 2u);   // mallet: 5 instruments
  EXPECT_EQ(test_instruments[10].size(), 2u);  // vocal: 3 instruments
  EXPECT_EQ(test_instruments[2].size(), 1u);   // flute: 2 instruments

  // Reproducible with its seed; another seed draws other instruments.
  const auto a = select_examples(scan, instrument_config(17));
  const auto b = select_examples(scan, instrument_config(17));
  const auto c = select_examples(scan, instrument_config(18));
  EXPECT_EQ(a.test, b.test);
  EXPECT_EQ(a.train, b.train);
  EXPECT_NE(a.test, c.test);
  // The family labels do not depend on the split.
  EXPECT_EQ(a.family_codes, (std::vector<int>{1, 2, 3, 5, 10}));
  EXPECT_EQ(family_labels(a), family_labels(select_examples(scan, DataConfig{})));
}

TEST(InstrumentSplit, FamilyWithOneInstrumentIsAnError) {
  // nsynth-mini: guitar is the one family with a single instrument.
  const auto mini = scan_dataset(test::shared_dir() / "reference" / "nsynth-mini");
  const auto expect_message = [](const DatasetScan& scan, const DataConfig& config,
                                 std::initializer_list<std::string> needles) {
    try {
      select_examples(scan, config);
      ADD_FAILURE() << "no DataError";
    } catch (const DataError& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      for (const auto& needle : needles) EXPECT_NE(msg.find(needle), std::string::npos) << "'" << needle << "' not in: " << msg;
    }
  };
  expect_message(mini, instrument_config(),
                 {"nsynth-mini: data.split = \"instrument\": family \"guitar\" has 1 instrument in the selection "
                  "(guitar_acoustic_907)",
                  "use data.split = \"note\" or add instruments"});
  // A family left with one instrument after the filters: reed (7) here.
  auto scan = recipe_scan();
  const auto reed = instrument_scan({{7, 30}, {6, 31}});  // organ (6) is excluded by default
  scan.examples.insert(scan.examples.end(), reed.examples.begin(), reed.examples.end());
  expect_message(scan, instrument_config(), {"family \"reed\" has 1 instrument", "(reed_acoustic_030)"});
  // An instrument whose notes sit in two families cannot be kept in one split per family.
  scan = recipe_scan();
  auto stray = scan.examples.front();  // brass_acoustic_005-040-100
  stray.note_str = "x_stray";
  stray.instrument_family = 2;
  stray.instrument_family_str = "flute";
  scan.examples.push_back(stray);
  expect_message(scan, instrument_config(), {"instrument 5 has notes in families \"brass\"", "\"flute\" (x_stray)"});
  // Without guitar, nsynth-mini splits by instrument: one of 2 or 3 instruments per family in test.
  auto no_guitar = instrument_config();
  no_guitar.exclude_families = {0, 3, 6};
  const auto split = select_examples(mini, no_guitar);
  EXPECT_EQ(split.family_codes, (std::vector<int>{1, 2, 4, 5, 7, 8, 10}));
  EXPECT_EQ(instruments_of(split, split.test).size(), 7u);
  // The note split of the same data is unaffected.
  EXPECT_EQ(select_examples(mini, DataConfig{}).test, (std::vector<std::int64_t>{0, 5, 10, 11, 18, 20, 21}));
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
  EXPECT_EQ(c.split, Split::note);
  EXPECT_EQ(c.on_error, OnError::skip);
  EXPECT_EQ(c.sample_rate, 16000);
  EXPECT_EQ(c.n_samples, 64000);
  EXPECT_FALSE(to_json(c).contains("split"));  // stage keys of older workdirs stay valid

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

  for (const auto& [name, split] : {std::pair{"note", Split::note}, std::pair{"instrument", Split::instrument},
                                    std::pair{"official", Split::official}}) {
    const auto given = ConfigDoc::from_string(std::string("[data]\nsplit = \"") + name + "\"\n");
    c = parse_data_config(given);
    given.check_unknown_keys();
    EXPECT_EQ(c.split, split) << name;
    EXPECT_EQ(to_string(c.split), name);
    if (split == Split::note) {
      EXPECT_FALSE(to_json(c).contains("split"));
    } else {
      EXPECT_EQ(to_json(c).at("split"), name);
    }
  }
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
  expect_config_error("[data]\nsplit = \"bogus\"\n", "demo.toml:2: data.split");
  expect_config_error("[data]\ntest_fraction = 1.5\n", "data.test_fraction");
  expect_config_error("[data]\nsubsample = -1\n", "data.subsample");
}

}  // namespace
}  // namespace cfma::data
