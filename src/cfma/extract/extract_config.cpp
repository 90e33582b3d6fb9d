#include "cfma/extract/extract_config.hpp"

#include <algorithm>

#include "cfma/core/error.hpp"
#include "cfma/core/text.hpp"
#include "cfma/nn/architectures.hpp"

namespace cfma::extract {

std::string LayerReduce::name() const {
  switch (kind) {
    case Kind::none: return "none";
    case Kind::channel_mean: return "channel_mean";
    case Kind::avg_pool: return "avgpool" + std::to_string(pool);
  }
  return "none";
}

LayerReduce parse_layer_reduce(const std::string& text) {
  if (text == "none") return {};
  if (text == "channel_mean") return {LayerReduce::Kind::channel_mean, 1};
  if (text.rfind("avgpool", 0) == 0) {
    const auto k = std::atoi(text.c_str() + 7);
    if (k >= 1 && std::to_string(k) == text.substr(7)) return {LayerReduce::Kind::avg_pool, k};
  }
  throw Error("'" + text + "' is not none, channel_mean or avgpool<K>");
}

LayerReduce ExtractConfig::reduce_of(const std::string& layer) const {
  const auto it = reduce.find(layer);
  return it == reduce.end() ? LayerReduce{} : it->second;
}

ExtractConfig parse_extract_config(const ConfigDoc& doc) {
  const auto s = doc.section("extract");
  const auto known = nn::layer_ids();
  ExtractConfig c;
  c.layers = s.get_string_list("layers", known);
  for (std::size_t i = 0; i < c.layers.size(); ++i) {
    if (std::find(known.begin(), known.end(), c.layers[i]) == known.end())
      s.fail_element("layers", i, "unknown layer '" + c.layers[i] + "' (valid: " + join(known) + ")");
    if (std::find(c.layers.begin(), c.layers.begin() + static_cast<std::ptrdiff_t>(i), c.layers[i]) !=
        c.layers.begin() + static_cast<std::ptrdiff_t>(i))
      s.fail_element("layers", i, "layer '" + c.layers[i] + "' listed twice");
  }
  if (c.layers.empty()) s.fail("layers", "empty list (name at least one of " + join(known) + ")");
  c.chunk_rows = static_cast<int>(s.get_int("chunk_rows", c.chunk_rows, between(1, 1 << 16)));
  c.untrained = s.get_bool("untrained", c.untrained);
  c.untrained_bn = s.get_choice("untrained_bn", c.untrained_bn, {"train", "eval"});
  if (s.has("reduce")) {
    const auto r = s.subsection("reduce");
    for (const auto& layer : r.keys()) {
      if (std::find(known.begin(), known.end(), layer) == known.end())
        r.fail(layer, "unknown layer (valid: " + join(known) + ")");
      const auto text = r.get_string(layer, "none");
      try {
        c.reduce[layer] = parse_layer_reduce(text);
      } catch (const ConfigError&) {
        throw;
      } catch (const Error& e) {
        r.fail(layer, e.what());
      }
    }
  }
  return c;
}

nlohmann::json to_json(const ExtractConfig& c) {
  nlohmann::json reduce = nlohmann::json::object();
  for (const auto& [layer, r] : c.reduce) reduce[layer] = r.name();
  return {{"layers", c.layers}, {"chunk_rows", c.chunk_rows}, {"untrained", c.untrained},
          {"untrained_bn", c.untrained_bn}, {"reduce", reduce}};
}

}  // namespace cfma::extract
