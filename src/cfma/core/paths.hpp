#pragma once
// Where each stage writes, below [run].workdir:
//   features.h5                       preprocess
//   runs/<arch>-<task>-s<seed>/       train (model.pt, checkpoint.pt, history.csv, manifest.json)
//   activations/<run>.h5              extract; untrained twins are "<arch>-untrained-s<seed>"
//   activations/index.json            extract, when every run is extracted: the runs' files
//   results/probes.csv, probes.json   probe
//   results/similarity.h5, .csv       similarity
//   report/index.html                 report
#include <cstdint>
#include <filesystem>
#include <string>

namespace cfma {

struct WorkPaths {
  std::filesystem::path workdir;

  std::filesystem::path features() const { return workdir / "features.h5"; }
  std::filesystem::path runs() const { return workdir / "runs"; }
  std::filesystem::path run_dir(const std::string& run) const { return runs() / run; }
  std::filesystem::path activations_dir() const { return workdir / "activations"; }
  std::filesystem::path activations(const std::string& run) const {
    return activations_dir() / (run + ".h5");
  }
  // Written last by a finished extract stage; the probe and similarity stages read the runs it
  // lists (a run missing from a failed or stopped extract is never taken for the whole study).
  std::filesystem::path activations_index() const { return activations_dir() / "index.json"; }
  std::filesystem::path results() const { return workdir / "results"; }
  std::filesystem::path report() const { return workdir / "report"; }
};

inline std::string run_name(const std::string& arch, const std::string& task, std::uint64_t seed) {
  return arch + "-" + task + "-s" + std::to_string(seed);
}
inline std::string untrained_run_name(const std::string& arch, std::uint64_t seed) {
  return run_name(arch, "untrained", seed);
}

}  // namespace cfma
