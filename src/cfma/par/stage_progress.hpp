#pragma once
// A stage's completed units of work, kept across a stop signal (Slurm's warning, a requeue):
// one file per unit in a `<output>.partial/` directory, next to a `key` file holding the stage
// key's hash. A later attempt with the same key loads them and does only the remaining units; a
// different key (changed config or inputs) discards them. The stage removes the directory once
// its outputs and manifest are in place, so nothing in it is ever taken for a finished output.
// Used by the probe stage (a probed set) and the similarity stage (a split's reduced sums).
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/mpi/communicator.hpp>

namespace cfma::par {

class StageProgress {
 public:
  // Collective: rank 0 prepares the directory (discarding another key's files), then every
  // rank reads the completed units (a shared file system).
  StageProgress(const boost::mpi::communicator& comm, std::filesystem::path dir, const std::string& key_hash);

  // The saved content of `unit`, if an earlier attempt completed it.
  std::optional<std::string> find(const std::string& unit) const;
  // Collective: rank 0 writes the unit's file atomically; every rank learns whether it failed.
  void save(const std::string& unit, std::string_view content);
  std::size_t completed() const { return done_.size(); }
  // Rank 0, after the stage's outputs are in place: removes the directory.
  void remove() const;

 private:
  const boost::mpi::communicator& comm_;
  std::filesystem::path dir_;
  std::map<std::string, std::string> done_;
};

}  // namespace cfma::par
