#pragma once
// The files of one run directory (runs/<arch>-<task>-s<seed>/) and who writes them (rank 0):
//   history.csv, confusion.csv   after every epoch (run_outputs.hpp), before the checkpoint
//   checkpoint.pt                every checkpoint_every epochs and on a stop (checkpoint.hpp)
//   model.pt, model.json         at the end (run_outputs.hpp)
//   model.pt.manifest.json       last: the run is finished with this stage key
#include <filesystem>

namespace cfma::train {

struct RunFiles {
  explicit RunFiles(const std::filesystem::path& run_dir)
      : dir(run_dir), model(run_dir / "model.pt"), checkpoint(run_dir / "checkpoint.pt") {}
  std::filesystem::path dir, model, checkpoint;
  std::filesystem::path model_json() const { return dir / "model.json"; }
  std::filesystem::path history() const { return dir / "history.csv"; }
  std::filesystem::path confusion() const { return dir / "confusion.csv"; }
};

}  // namespace cfma::train
