// ConfigDoc / ConfigSection: typed getters, error messages naming key and line, --set
// overrides, unknown-key detection and the TOML round trip.
#include <gtest/gtest.h>

#include <string>

#include "cfma/core/config.hpp"
#include "cfma/core/error.hpp"

namespace {

using cfma::ConfigDoc;
using cfma::ConfigError;

// The message of the ConfigError `f` throws (empty when it throws nothing).
template <class F>
std::string config_error(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

constexpr const char* sample = R"(# line 1
[train]
epochs = 12
learning_rate = 0.005
name = "regular"
shuffle = true
seeds = [1, 2, 3]
rates = [0.5, 1]
tasks = ["family", "pitch"]

[extract]
layers = ["conv1"]
[extract.reduce]
conv1 = "channel_mean"
conv2 = "avgpool2"
)";

TEST(Config, TypedGettersReadValuesAndFallbacks) {
  const auto doc = ConfigDoc::from_string(sample, "sample.toml");
  const auto train = doc.section("train");
  EXPECT_EQ(train.get_int("epochs", 0), 12);
  EXPECT_DOUBLE_EQ(train.get_double("learning_rate", 0), 0.005);
  EXPECT_DOUBLE_EQ(train.get_double("epochs", 0), 12.0);  // an integer is a valid number
  EXPECT_EQ(train.get_string("name", ""), "regular");
  EXPECT_TRUE(train.get_bool("shuffle", false));
  EXPECT_EQ(train.get_int_list("seeds", {}), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(train.get_double_list("rates", {}), (std::vector<double>{0.5, 1.0}));
  EXPECT_EQ(train.get_string_list("tasks", {}), (std::vector<std::string>{"family", "pitch"}));
  EXPECT_EQ(train.get_int("missing", 7), 7);
  EXPECT_EQ(train.get_string("missing_s", "dflt"), "dflt");
  EXPECT_TRUE(train.has("epochs"));
  EXPECT_FALSE(train.has("missing"));
  EXPECT_TRUE(doc.has_section("extract"));
  EXPECT_FALSE(doc.has_section("probe"));
}

TEST(Config, UnknownKeyNamesKeyAndLine) {
  const auto doc = ConfigDoc::from_string("[train]\nepochs = 3\nepoch = 4\n", "typo.toml");
  EXPECT_EQ(doc.section("train").get_int("epochs", 0), 3);
  EXPECT_EQ(config_error([&] { doc.check_unknown_keys(); }), "typo.toml:3: unknown key 'train.epoch'");
}

TEST(Config, UnknownKeyInUnreadSectionNamesItsOwnLine) {
  // Of two unknown keys the one reported is the first in the file ('trian.b', line 4; toml++
  // itself keeps keys sorted by name), each with its own line.
  const auto doc = ConfigDoc::from_string("[train]\nepochs = 3\n[trian]\nb = 1\na = 2\n", "s.toml");
  doc.section("train").get_int("epochs", 0);
  EXPECT_EQ(config_error([&] { doc.check_unknown_keys(); }), "s.toml:4: unknown key 'trian.b'");
  doc.section("trian").get_int("b", 0);
  EXPECT_EQ(config_error([&] { doc.check_unknown_keys(); }), "s.toml:5: unknown key 'trian.a'");
}

TEST(Config, AllKeysReadMeansNoError) {
  const auto doc = ConfigDoc::from_string(sample, "sample.toml");
  const auto train = doc.section("train");
  for (const auto& k : {"epochs", "learning_rate", "name", "shuffle", "seeds", "rates", "tasks"})
    EXPECT_TRUE(train.has(k)) << k;
  train.get_int("epochs", 0);
  train.get_double("learning_rate", 0);
  train.get_string("name", "");
  train.get_bool("shuffle", false);
  train.get_int_list("seeds", {});
  train.get_double_list("rates", {});
  train.get_string_list("tasks", {});
  doc.section("extract").get_string_list("layers", {});
  // Reading the nested table as a whole (map-like section) marks its keys known.
  doc.section("extract").subsection("reduce");
  EXPECT_EQ(config_error([&] { doc.check_unknown_keys(); }), "");
}

TEST(Config, WrongTypeNamesKeyAndLine) {
  const auto doc = ConfigDoc::from_string(sample, "sample.toml");
  const auto train = doc.section("train");
  EXPECT_EQ(config_error([&] { train.get_int("name", 0); }),
            "sample.toml:5: train.name: expected integer, got string");
  EXPECT_EQ(config_error([&] { train.get_string("epochs", ""); }),
            "sample.toml:3: train.epochs: expected string, got integer");
  EXPECT_EQ(config_error([&] { train.get_bool("epochs", false); }),
            "sample.toml:3: train.epochs: expected boolean, got integer");
  EXPECT_EQ(config_error([&] { train.get_int_list("tasks", {}); }),
            "sample.toml:9: train.tasks[0]: expected integer, got string");
  EXPECT_EQ(config_error([&] { train.get_string_list("epochs", {}); }),
            "sample.toml:3: train.epochs: expected array of strings, got integer");
  EXPECT_EQ(config_error([&] { train.get_int("learning_rate", 0); }),
            "sample.toml:4: train.learning_rate: expected integer, got float");
}

TEST(Config, OutOfRangeNamesKeyAndLine) {
  const auto doc = ConfigDoc::from_string(sample, "sample.toml");
  const auto train = doc.section("train");
  EXPECT_EQ(config_error([&] { train.get_int("epochs", 0, cfma::between(1, 10)); }),
            "sample.toml:3: train.epochs: value 12 out of range (must be in [1, 10])");
  EXPECT_EQ(config_error([&] { train.get_double("learning_rate", 0, cfma::greater_than(0.01)); }),
            "sample.toml:4: train.learning_rate: value 0.005 out of range (must be > 0.01)");
  EXPECT_EQ(config_error([&] { train.get_int_list("seeds", {}, cfma::at_least(2)); }),
            "sample.toml:7: train.seeds[0]: value 1 out of range (must be >= 2)");
  // Boundaries: inclusive at_least/between, exclusive greater_than.
  EXPECT_EQ(train.get_int("epochs", 0, cfma::between(12, 12)), 12);
  EXPECT_EQ(train.get_int("epochs", 0, cfma::at_least(12)), 12);
  EXPECT_NE(config_error([&] { train.get_int("epochs", 0, cfma::greater_than(12)); }), "");
}

TEST(Config, ListElementErrorsNameTheElementsOwnLine) {
  const auto doc = ConfigDoc::from_string("[train]\nseeds = [\n  1,\n  -4,\n]\nnames = [\"a\",\n 3]\n", "l.toml");
  const auto train = doc.section("train");
  EXPECT_EQ(config_error([&] { train.get_int_list("seeds", {}, cfma::at_least(0)); }),
            "l.toml:4: train.seeds[1]: value -4 out of range (must be >= 0)");
  EXPECT_EQ(config_error([&] { train.get_string_list("names", {}); }),
            "l.toml:7: train.names[1]: expected string, got integer");
  EXPECT_EQ(config_error([&] { train.fail_element("seeds", 0, "no such seed"); }),
            "l.toml:3: train.seeds[0]: no such seed");
  EXPECT_EQ(config_error([&] { train.fail("seeds", "bad"); }), "l.toml:2: train.seeds: bad");
  const auto over = ConfigDoc::from_string("[train]\nseeds = [1]\n", "o.toml", {"train.seeds=[1, 2]"});
  EXPECT_EQ(config_error([&] { over.section("train").fail_element("seeds", 1, "x"); }),
            "o.toml (--set): train.seeds[1]: x");
}

TEST(Config, GetChoice) {
  const auto doc = ConfigDoc::from_string("[features]\npad_mode = \"reflect\"\nbad = \"edge\"\n", "c.toml");
  const auto s = doc.section("features");
  EXPECT_EQ(s.get_choice("pad_mode", "constant", {"reflect", "constant"}), "reflect");
  EXPECT_EQ(s.get_choice("absent", "constant", {"reflect", "constant"}), "constant");
  EXPECT_EQ(config_error([&] { s.get_choice("bad", "constant", {"reflect", "constant"}); }),
            "c.toml:3: features.bad: 'edge' is not one of 'reflect', 'constant'");
}

TEST(Config, SetOverridesEveryValueKind) {
  const auto doc = ConfigDoc::from_string(
      sample, "sample.toml",
      {"train.epochs=5", "train.learning_rate=0.25", "train.name=\"deformable\"",
       "train.tasks=[\"velocity\"]", "train.seeds = [4, 5]", "data.root=bare_word/path",
       "extract.reduce.conv2=\"none\"", "new.nested.deep=3", "train.shuffle=false"});
  const auto train = doc.section("train");
  EXPECT_EQ(train.get_int("epochs", 0), 5);
  EXPECT_DOUBLE_EQ(train.get_double("learning_rate", 0), 0.25);
  EXPECT_EQ(train.get_string("name", ""), "deformable");
  EXPECT_EQ(train.get_string_list("tasks", {}), (std::vector<std::string>{"velocity"}));
  EXPECT_EQ(train.get_int_list("seeds", {}), (std::vector<std::int64_t>{4, 5}));
  EXPECT_FALSE(train.get_bool("shuffle", true));
  EXPECT_EQ(doc.section("data").get_string("root", ""), "bare_word/path");
  const auto reduce = doc.section("extract").subsection("reduce");
  EXPECT_EQ(reduce.get_string("conv2", ""), "none");
  EXPECT_EQ(reduce.get_string("conv1", ""), "channel_mean");  // untouched sibling
  EXPECT_EQ(doc.section("new").subsection("nested").get_int("deep", 0), 3);
}

TEST(Config, SetErrorsSayDashDashSet) {
  const auto doc = ConfigDoc::from_string(sample, "sample.toml", {"train.epochs=many", "train.epochz=3"});
  const auto train = doc.section("train");
  EXPECT_EQ(config_error([&] { train.get_int("epochs", 0); }),
            "sample.toml (--set): train.epochs: expected integer, got string");
  // Read everything else so the override typo is the first unknown key.
  train.get_double("learning_rate", 0);
  train.get_string("name", "");
  train.get_bool("shuffle", false);
  train.get_int_list("seeds", {});
  train.get_double_list("rates", {});
  train.get_string_list("tasks", {});
  doc.section("extract").get_string_list("layers", {});
  doc.section("extract").subsection("reduce");
  EXPECT_EQ(config_error([&] { doc.check_unknown_keys(); }), "sample.toml (--set): unknown key 'train.epochz'");
}

TEST(Config, MalformedSetAndTomlAreErrors) {
  EXPECT_EQ(config_error([] { ConfigDoc::from_string("", "e.toml", {"noequals"}); }),
            "--set noequals: expected section.key=value");
  EXPECT_EQ(config_error([] { ConfigDoc::from_string("[a]\nb = 1\n", "e.toml", {"a.b.c=1"}); }),
            "--set a.b.c=1: 'b' is not a table");
  const auto msg = config_error([] { ConfigDoc::from_string("[a]\nb = = 1\n", "bad.toml"); });
  EXPECT_EQ(msg.rfind("bad.toml:2: ", 0), 0u) << msg;
}

TEST(Config, SubsectionAndKeys) {
  const auto doc = ConfigDoc::from_string(sample, "sample.toml");
  const auto reduce = doc.section("extract").subsection("reduce");
  EXPECT_EQ(reduce.path(), "extract.reduce");
  EXPECT_EQ(reduce.keys(), (std::vector<std::string>{"conv1", "conv2"}));
  // File order (toml++ itself keeps tables sorted by name).
  EXPECT_EQ(doc.section("train").keys(),
            (std::vector<std::string>{"epochs", "learning_rate", "name", "shuffle", "seeds", "rates", "tasks"}));
  EXPECT_TRUE(doc.section("extract").subsection("absent").keys().empty());
  EXPECT_TRUE(doc.section("absent").keys().empty());
  EXPECT_EQ(config_error([&] { doc.section("train").subsection("epochs"); }),
            "sample.toml:3: train.epochs: expected table, got integer");
}

TEST(Config, ToTomlRoundTrip) {
  const auto doc = ConfigDoc::from_string(sample, "sample.toml", {"train.epochs=99", "extra.x=\"y\""});
  const auto text = doc.to_toml();
  const auto again = ConfigDoc::from_string(text, "again.toml");
  EXPECT_EQ(again.to_toml(), text);
  const auto train = again.section("train");
  EXPECT_EQ(train.get_int("epochs", 0), 99);
  EXPECT_DOUBLE_EQ(train.get_double("learning_rate", 0), 0.005);
  EXPECT_EQ(train.get_string_list("tasks", {}), (std::vector<std::string>{"family", "pitch"}));
  EXPECT_EQ(again.section("extract").subsection("reduce").get_string("conv2", ""), "avgpool2");
  EXPECT_EQ(again.section("extra").get_string("x", ""), "y");
}

TEST(Config, LoadFileErrors) {
  EXPECT_EQ(config_error([] { ConfigDoc::load("/nonexistent/cfma.toml"); }),
            "/nonexistent/cfma.toml: cannot open config file");
}

}  // namespace
