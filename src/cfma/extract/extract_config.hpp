#pragma once
// [extract]: which layers to save and how to bound their size.
//   layers        layer ids to capture (default: every id of the architecture registry,
//                 conv1 pool1 conv2 pool2 conv3 fc1); each run captures those its
//                 architecture has (feedforward: fc1 only)
//   chunk_rows    examples per forward pass (also the BatchNorm batch of untrained nets in
//                 "train" mode, as the paper's DataLoader batches of 64)
//   untrained     also extract the untrained twin of every (architecture, seed)
//   untrained_bn  "train" (paper Q8: batch statistics per chunk) or "eval" (running stats 0/1)
//   [extract.reduce] per layer: "none", "channel_mean" (the paper's conv1/pool1, Q7) or
//                 "avgpool<K>" (average pooling by K x K): bounds disk for early layers
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfma/core/config.hpp"

namespace cfma::extract {

struct LayerReduce {
  enum class Kind { none, channel_mean, avg_pool } kind = Kind::none;
  int pool = 1;
  std::string name() const;
};
LayerReduce parse_layer_reduce(const std::string& text);  // throws Error (not ConfigError)

struct ExtractConfig {
  std::vector<std::string> layers;  // parse_extract_config fills the registry's ids by default
  int chunk_rows = 64;
  bool untrained = true;
  std::string untrained_bn = "train";
  std::map<std::string, LayerReduce> reduce = {
      {"conv1", {LayerReduce::Kind::channel_mean, 1}}, {"pool1", {LayerReduce::Kind::channel_mean, 1}}};
  LayerReduce reduce_of(const std::string& layer) const;
};

// Every layer id (list element or [extract.reduce] key) must be a layer of the registry;
// errors name file:line and the key (list elements by index).
ExtractConfig parse_extract_config(const ConfigDoc& doc);
nlohmann::json to_json(const ExtractConfig& c);

}  // namespace cfma::extract
