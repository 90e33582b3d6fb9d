#pragma once
// The extract stage: activations of every captured layer of every trained run and of the
// untrained twin of every (architecture, seed), for all train and test examples.
//   Batches follow the split order (train batches, then test batches, of extract.chunk_rows),
//   so an untrained net's batch statistics (paper Q8) do not depend on the number of ranks;
//   rank r takes a block of the batches and writes its rows collectively into
//   activations/<run>.h5 (temporary name, renamed, manifest last). A run whose architecture
//   has none of extract.layers is skipped with a log line.
#include <boost/mpi/communicator.hpp>

#include "cfma/core/paths.hpp"
#include "cfma/extract/extract_config.hpp"
#include "cfma/train/train_config.hpp"

namespace cfma::extract {

struct ExtractStageOptions {
  int threads = 1;     // LibTorch and BLAS threads per rank
  bool force = false;  // recompute up-to-date files
};

// Collective over `comm`. Throws ModelError when features.h5 or a trained model is missing.
void run_extract_stage(const boost::mpi::communicator& comm, const WorkPaths& paths, const ExtractConfig& config,
                       const train::TrainConfig& train_config, const ExtractStageOptions& options);

}  // namespace cfma::extract
