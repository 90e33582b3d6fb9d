#include "cfma/study/config_check.hpp"

#include <algorithm>

#include "cfma/core/text.hpp"
#include "cfma/dsp/features_config.hpp"
#include "cfma/extract/extract_config.hpp"
#include "cfma/extract/plan.hpp"
#include "cfma/nn/architectures.hpp"
#include "cfma/probe/probe_config.hpp"
#include "cfma/sim/config.hpp"
#include "cfma/sim/similarity_stage.hpp"
#include "cfma/store/feature_sets.hpp"
#include "cfma/train/train_config.hpp"

namespace cfma::study {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// The architectures of the config that have `layer`.
std::vector<std::string> archs_with(const train::TrainConfig& train, const std::string& layer) {
  std::vector<std::string> archs;
  for (const auto& a : train.architectures)
    if (contains(nn::layer_ids(a), layer)) archs.push_back(a);
  return archs;
}

// A layer id named in some list: it must be a registry layer that some architecture of the
// config has and that extract captures. `fail` reports at the list element.
template <class Fail>
void check_layer_reference(const std::string& layer, const train::TrainConfig& train,
                           const extract::ExtractConfig& extract, Fail&& fail) {
  const auto known = nn::layer_ids();
  if (!contains(known, layer)) fail("unknown layer '" + layer + "' (valid: " + join(known) + ")");
  if (archs_with(train, layer).empty())
    fail("no architecture of train.architectures (" + join(train.architectures) + ") has layer '" + layer + "'");
  if (!contains(extract.layers, layer))
    fail("layer '" + layer + "' is not extracted (add it to extract.layers: " + join(extract.layers) + ")");
}

void check_extract(const ConfigDoc& doc, const train::TrainConfig& train, const extract::ExtractConfig& extract) {
  const auto s = doc.section("extract");
  for (std::size_t i = 0; i < extract.layers.size(); ++i)
    if (archs_with(train, extract.layers[i]).empty())
      s.fail_element("layers", i, "no architecture of train.architectures (" + join(train.architectures) +
                                      ") has layer '" + extract.layers[i] + "'");
  // avgpool<K> must fit every extracted layer it applies to (avg_pool2d fails otherwise).
  const auto reduce = s.subsection("reduce");
  for (const auto& [layer, r] : extract.reduce) {
    if (r.kind != extract::LayerReduce::Kind::avg_pool || !contains(extract.layers, layer)) continue;
    for (const auto& arch : archs_with(train, layer)) {
      nn::ModelSpec spec;
      spec.arch = arch;
      spec.deformable_mode = train.deformable_mode;
      for (const auto& info : nn::layer_infos(spec))
        if (info.id == layer && (info.shape[1] < r.pool || info.shape[2] < r.pool))
          reduce.fail(layer, r.name() + " is larger than " + arch + " " + layer + " (" +
                                 std::to_string(info.shape[1]) + " x " + std::to_string(info.shape[2]) + ")");
    }
  }
}

void check_probe(const ConfigDoc& doc, const train::TrainConfig& train, const extract::ExtractConfig& extract,
                 const probe::ProbeConfig& probe, const ExpectedSets& expected) {
  const auto s = doc.section("probe");
  for (std::size_t i = 0; i < probe.layers.size(); ++i)
    check_layer_reference(probe.layers[i], train, extract,
                          [&](const std::string& problem) { s.fail_element("layers", i, problem); });
  const bool concat = probe.concat_top_k > 0 && contains(probe.targets, "family");
  if (concat) {
    const auto fail = [&](const std::string& problem) {
      s.fail("concat_layer", problem + " (or set probe.concat_top_k = 0)");
    };
    check_layer_reference(probe.concat_layer, train, extract, fail);
    if (!probe.layers.empty() && !contains(probe.layers, probe.concat_layer))
      fail("layer '" + probe.concat_layer + "' is not probed (add it to probe.layers)");
  }
  // probe.sets filters the sets the stage would probe: each entry must select one.
  std::vector<std::string> candidates;
  for (const auto& name : expected.activations) {
    const auto layer = name.substr(name.rfind('/') + 1);
    if (probe.layers.empty() || contains(probe.layers, layer)) candidates.push_back(name);
  }
  candidates.insert(candidates.end(), expected.hand.begin(), expected.hand.end());
  if (probe.include_input) candidates.push_back("input");
  for (std::size_t i = 0; i < probe.sets.size(); ++i) {
    probe::ProbeConfig one;
    one.sets = {probe.sets[i]};
    if (std::none_of(candidates.begin(), candidates.end(),
                     [&](const std::string& name) { return probe::set_selected(one, name); }))
      s.fail_element("sets", i, "'" + probe.sets[i] + "' matches no set the probe stage will see");
  }
}

void check_similarity(const ConfigDoc& doc, const sim::SimilarityConfig& similarity, const ExpectedSets& expected) {
  const auto s = doc.section("similarity");
  for (std::size_t i = 0; i < similarity.sets.size(); ++i) {
    const auto& sel = similarity.sets[i];
    const bool matched =
        sim::selector_matches(sel, "input", "input") ||
        std::any_of(expected.activations.begin(), expected.activations.end(),
                    [&](const std::string& n) { return sim::selector_matches(sel, n, "activations"); }) ||
        std::any_of(expected.hand.begin(), expected.hand.end(),
                    [&](const std::string& n) { return sim::selector_matches(sel, n, "hand"); });
    if (!matched) s.fail_element("sets", i, "'" + sel + "' matches no feature set of this config");
  }
}

}  // namespace

ExpectedSets expected_sets(const ConfigDoc& doc) {
  const auto train = train::parse_train_config(doc);
  const auto extract = extract::parse_extract_config(doc);
  const auto features = dsp::parse_features_config(doc);
  ExpectedSets sets;
  for (const auto& run : extract::extract_runs(train, extract))
    for (const auto& layer : extract::captured_layers(run.arch, extract.layers))
      sets.activations.push_back(run.name + "/" + layer);
  sets.hand = store::hand_feature_set_names(features.wavelet_widths, features.stats_width);
  return sets;
}

void check_config(const ConfigDoc& doc) {
  const auto train = train::parse_train_config(doc);
  const auto extract = extract::parse_extract_config(doc);
  const auto probe = probe::parse_probe_config(doc);
  const auto similarity = sim::parse_similarity_config(doc);
  const auto expected = expected_sets(doc);
  check_extract(doc, train, extract);
  check_probe(doc, train, extract, probe, expected);
  check_similarity(doc, similarity, expected);
}

}  // namespace cfma::study
