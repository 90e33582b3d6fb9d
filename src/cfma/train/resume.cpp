#include "cfma/train/resume.hpp"

#include <boost/mpi/collectives.hpp>
#include <spdlog/spdlog.h>

#include "cfma/core/error.hpp"
#include "cfma/par/world.hpp"
#include "cfma/train/checkpoint.hpp"

namespace cfma::train {
namespace fs = std::filesystem;

RunStart decide_run_start(const RunFiles& files, const StageKey& key, const nlohmann::json& config, bool force,
                          const std::string& run_name, const boost::mpi::communicator& comm) {
  enum State : int { fresh, up_to_date, foreign, resume };
  int state = fresh;
  std::string error;
  fs::path foreign_file = files.model.string() + ".manifest.json";
  if (comm.rank() == 0) {
    try {
      if (!force && is_up_to_date(files.model, key)) {
        state = up_to_date;
      } else if (const auto m = read_manifest(files.model); m && !force && m->value("config", nlohmann::json()) != config) {
        state = foreign;
      } else if (m && !force) {
        // Finished with this config on other inputs: its checkpoint is stale too.
        spdlog::warn("{}: inputs changed since this run was trained: retraining", run_name);
      } else if (fs::exists(files.checkpoint) && !force) {
        const auto meta = read_checkpoint_meta(files.checkpoint);
        if (meta.value("key", "") == key.hash()) state = resume;
        else if (meta.value("config", nlohmann::json()) != config) state = foreign, foreign_file = files.checkpoint;
        else spdlog::warn("{}: inputs changed since checkpoint.pt was written: training from scratch", run_name);
      }
    } catch (const Error& e) {
      error = e.what();
    }
  }
  par::check_all(comm, error);
  boost::mpi::broadcast(comm, state, 0);
  if (state == foreign) {
    std::string name = foreign_file.string();
    boost::mpi::broadcast(comm, name, 0);
    throw TrainError(name + ": belongs to a run of a different config; nothing was overwritten "
                     "(use another workdir, or --force to retrain)");
  }
  return state == up_to_date ? RunStart::up_to_date : state == resume ? RunStart::resume : RunStart::fresh;
}

}  // namespace cfma::train
