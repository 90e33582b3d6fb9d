#pragma once
// The study manifest, <workdir>/study.json: what one study consists of, updated atomically
// (under a lock: the tasks of a training job array share it) each time a stage finishes.
//   cfma      version, source commit
//   environment  compiler, LibTorch, HDF5, MPI, Boost, Eigen, FFTW, BLAS (library and kernels), CPU
//   config    the effective config of the latest stage (also written as <workdir>/study.toml)
//   inputs    the data index files and the wav of every note preprocess read, each hashed
//   stages    per stage: its outputs (path below the workdir -> bytes, content hash; an HDF5
//             file's hash is of its datasets' values, with one hash per dataset) and its
//             invocations (wall time, ranks, threads, hosts, Slurm job id and attempt, time)
// `cfma verify` reads it (verify.hpp).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <boost/mpi/communicator.hpp>
#include <nlohmann/json.hpp>

#include "cfma/core/config.hpp"
#include "cfma/core/paths.hpp"

namespace cfma::study {

std::filesystem::path study_manifest_path(const std::filesystem::path& workdir);  // study.json
std::filesystem::path study_config_path(const std::filesystem::path& workdir);    // study.toml

// The build's source commit ("<sha>[-dirty]" or "unknown"), generated at build time.
const char* source_commit_id();
// Versions of cfma and every library it computes with, and this CPU.
nlohmann::json environment_description();

// The files a stage's outputs consist of, relative to the workdir, sorted: features.h5;
// runs/<run>/{model.pt, model.json, history.csv, confusion.csv} (of `runs`, or of every run
// directory); activations/*.h5 and index.json; results/ files of probe and of similarity;
// report/index.html. Manifests, checkpoints, locks and partial files are not outputs.
std::vector<std::string> stage_outputs(const WorkPaths& paths, const std::string& stage,
                                       const std::vector<std::string>& runs = {});

// One output's record: {"bytes", "hash", "kind": "hdf5"|"file", "datasets": {name: hash}}.
nlohmann::json hash_output(const std::filesystem::path& file);

struct StageInvocation {
  std::string stage;
  double wall_s = 0;
  std::vector<std::string> runs;  // train --run-index: the run it trained (else all)
};

// Collective, after a stage finished on every rank: gathers the hosts, hashes the inputs
// (preprocess: every rank hashes its share of the wavs) and, on rank 0, the stage's outputs,
// then rewrites study.json and study.toml atomically under <workdir>/study.json.lock. Every
// rank throws when any part fails (the stage's own outputs stay as they are).
void record_stage(const boost::mpi::communicator& comm, const ConfigDoc& doc, const WorkPaths& paths,
                  const StageInvocation& invocation);

// study.json of a workdir (or the file itself); throws Error naming it when missing or damaged.
nlohmann::json read_study(const std::filesystem::path& workdir_or_file);

}  // namespace cfma::study
