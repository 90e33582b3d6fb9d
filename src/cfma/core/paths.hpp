#pragma once
// Where each stage writes, below [run].workdir:
//   features.h5                       preprocess
//   runs/<arch>-<task>-s<seed>/       train (model.pt, checkpoint.pt, history.csv, manifest.json)
//   activations/<run>.h5              extract; untrained twins are "<arch>-untrained-s<seed>"
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
