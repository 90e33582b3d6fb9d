#pragma once
// Cross-checks of a config: the sections that each stage parses on its own are checked
// against each other and against the architecture registry, so that every combination that
// would fail in a later stage (a layer no architecture has, a probe layer that is never
// extracted, a set selector that matches nothing, a pooling wider than a layer) fails before
// the first stage, naming file:line and the key (list elements by index).
//   architectures x tasks x extract.layers x extract.reduce x probe.layers x
//   probe.concat_layer x probe.sets x similarity.sets
#include <string>
#include <vector>

#include "cfma/core/config.hpp"

namespace cfma::study {

// Every set name the probe and similarity stages will see for this config (activation sets
// "<run>/<layer>" of the trained runs and untrained twins, the hand-crafted sets and "input"),
// computed from the config and the registry without reading any file.
struct ExpectedSets {
  std::vector<std::string> activations;  // with the layers extract captures per architecture
  std::vector<std::string> hand;
};
ExpectedSets expected_sets(const ConfigDoc& doc);

// Throws ConfigError for the first inconsistency, in section order (extract, probe, similarity).
void check_config(const ConfigDoc& doc);

}  // namespace cfma::study
