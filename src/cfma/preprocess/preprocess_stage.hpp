#pragma once
// The preprocess stage: NSynth notes -> workdir/features.h5 (design: Sharding).
//   1. fix the selection on rank 0 and check its audio on all ranks (fixed_selection.hpp)
//   2. skip when features.h5's manifest has this stage key (configs + input fingerprint)
//   3. write features.h5 collectively under a temporary name (features_writer.hpp), rename it
//      into place, then write features.h5.manifest.json (counts and the skipped notes) last.
#include <boost/mpi/communicator.hpp>

#include "cfma/core/manifest.hpp"
#include "cfma/core/paths.hpp"
#include "cfma/data/data_config.hpp"
#include "cfma/dsp/features_config.hpp"

namespace cfma::preprocess {

StageKey preprocess_stage_key(const data::DataConfig& data_config, const dsp::FeaturesConfig& features_config,
                              const std::string& input_fingerprint);

// Collective. Returns false when features.h5 was up to date and skipped.
bool run_preprocess_stage(const boost::mpi::communicator& comm, const WorkPaths& paths,
                          const data::DataConfig& data_config, const dsp::FeaturesConfig& features_config,
                          bool force);

}  // namespace cfma::preprocess
