// The cross-section checks of a config (study/config_check.hpp): the sets a config produces,
// computed from the registry alone, and the first inconsistency with its file:line and key.
#include <gtest/gtest.h>

#include <algorithm>

#include "cfma/core/config.hpp"
#include "cfma/core/error.hpp"
#include "cfma/study/config_check.hpp"
#include "tests/test_paths.hpp"

namespace cfma::study {
namespace {

std::string check_error(const std::string& toml) {
  try {
    check_config(ConfigDoc::from_string(toml, "c.toml"));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigCheck, PaperConfigProducesEveryLayerOfEveryRunAndTwin) {
  const auto doc = ConfigDoc::load(test::source_dir() / "configs/paper.toml");
  EXPECT_NO_THROW(check_config(doc));
  const auto sets = expected_sets(doc);
  // 5 CNNs x (3 tasks x 5 seeds + 5 twins) x 6 layers + feedforward x 20 x fc1.
  EXPECT_EQ(sets.activations.size(), 5u * 20u * 6u + 20u);
  EXPECT_EQ(sets.hand.size(), 23u);
  const auto has = [&](const std::string& name) {
    return std::find(sets.activations.begin(), sets.activations.end(), name) != sets.activations.end();
  };
  EXPECT_TRUE(has("feedforward-untrained-s177/fc1"));
  EXPECT_FALSE(has("feedforward-family-s1/conv3"));
  EXPECT_TRUE(has("time1d-velocity-s25/pool1"));
}

TEST(ConfigCheck, InconsistentSectionsNameTheirLine) {
  const std::string ff = "[train]\narchitectures = [\"feedforward\"]\n[extract]\nlayers = [\"fc1\"]\n";
  EXPECT_EQ(check_error(ff + "[probe]\nconcat_top_k = 0\n"), "");
  EXPECT_EQ(check_error(ff + "[probe]\nconcat_top_k = 0\nlayers = [\"fc1\", \"conv3\"]\n"),
            "c.toml:7: probe.layers[1]: no architecture of train.architectures (feedforward) has layer 'conv3'");
  EXPECT_EQ(check_error(ff + "[probe]\n"),
            "c.toml: probe.concat_layer (default): no architecture of train.architectures (feedforward) has layer "
            "'conv3' (or set probe.concat_top_k = 0)");
  EXPECT_EQ(check_error("[train]\narchitectures = [\"regular\"]\n[extract]\nlayers = [\"conv3\"]\n"
                        "[probe]\nlayers = [\"conv3\", \"pool2\"]\n"),
            "c.toml:6: probe.layers[1]: layer 'pool2' is not extracted (add it to extract.layers: conv3)");
  EXPECT_EQ(check_error("[train]\narchitectures = [\"regular\", \"freq1d\"]\n[similarity]\nsets = [\"hand\", "
                        "\"freq1d-family-s1/conv3\", \"freq1d-pitch-s1/*\"]\n"),
            "c.toml:4: similarity.sets[2]: 'freq1d-pitch-s1/*' matches no feature set of this config");
  EXPECT_EQ(check_error("[extract.reduce]\npool2 = \"avgpool12\"\n"),
            "c.toml:2: extract.reduce.pool2: avgpool12 is larger than regular pool2 (11 x 11)");
}

}  // namespace
}  // namespace cfma::study
