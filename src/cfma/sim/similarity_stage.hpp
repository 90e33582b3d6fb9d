#pragma once
// The similarity stage: all-pairs CKA / CCA / regression similarity of every selected feature
// set (activations of every run, the 23 hand-crafted sets, the input) on the train and test
// splits (reference-spec 7). It chooses the sets, checks that they share features.h5's rows,
// runs compute_similarity and writes results/similarity.{h5,csv} + manifest (rank 0, all
// ranks learn the outcome).
#include <string>
#include <vector>

#include <boost/mpi/communicator.hpp>

#include "cfma/core/paths.hpp"
#include "cfma/sim/config.hpp"

namespace cfma::sim {

// True when `selector` ("all", "activations", "hand", "input", an exact name or a prefix
// ending in '*') selects the set `name` of kind `kind` (activations, hand or input).
bool selector_matches(const std::string& selector, const std::string& name, const std::string& kind);

// Collective over `comm`; `threads` = Eigen/BLAS threads per rank. Returns false when the
// outputs were up to date (rank 0 decides, every rank follows).
bool run_similarity_stage(const boost::mpi::communicator& comm, const WorkPaths& paths,
                          const SimilarityConfig& config, int threads, bool force);

}  // namespace cfma::sim
