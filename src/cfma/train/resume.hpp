#pragma once
// How a run starts, decided on rank 0 from its run directory and broadcast:
//   up_to_date  model.pt's manifest has this stage key: nothing to do
//   foreign     model.pt or checkpoint.pt belongs to another config: refused (TrainError on
//               every rank), nothing is overwritten
//   stale       finished, or checkpointed, with this config on other inputs: retrained from
//               scratch (a warning)
//   resume      checkpoint.pt of this very run (same key): continue from it
// --force always trains from scratch.
#include <string>

#include <boost/mpi/communicator.hpp>
#include <nlohmann/json.hpp>

#include "cfma/core/manifest.hpp"
#include "cfma/train/run_files.hpp"

namespace cfma::train {

enum class RunStart { fresh, up_to_date, resume };

// Collective. `config` is the stage config `key` was made of; `run_name` is for messages.
RunStart decide_run_start(const RunFiles& files, const StageKey& key, const nlohmann::json& config, bool force,
                          const std::string& run_name, const boost::mpi::communicator& comm);

}  // namespace cfma::train
