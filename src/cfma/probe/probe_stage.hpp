#pragma once
// The probe stage: the probe.layers of every activations file (trained and untrained), every
// hand-crafted set (plus groups and the noise baseline), optionally the input; then the
// transfer matrix and the concatenation experiment. Outputs, below workdir/results/:
//   probes.csv    long format: set,run,arch,task,seed,layer,target,split,metric,value
//                 (task = the model's training task or "untrained"; empty for non-network sets)
//   transfer.csv  arch,model_task,layer,target,split,metric,mean,sd,ci95_low,ci95_high,seeds
//                 (mean, sample sd and 95 % Student-t interval over seeds)
//   baselines.csv baseline,target,split,metric,value,seeds: chance (majority class, train
//                 mean), the noise set, the input, the untrained twins
// Targets: family, pitch, velocity, pitch_class; with control tasks also <target>_control and
// <target>_selectivity (task - control: accuracy, or R^2 for pitch).
//   concat.csv    run,arch,task,seed,layer,added_set,added_rank,target,split,metric,value
//   probes.json   all of the above plus the config, per-set solver details, the concat ranking
// and probes.csv.manifest.json last.
#include <filesystem>
#include <string>
#include <vector>

#include <boost/mpi/communicator.hpp>
#include <nlohmann/json.hpp>

#include "cfma/core/manifest.hpp"
#include "cfma/core/paths.hpp"
#include "cfma/par/stage_progress.hpp"
#include "cfma/probe/probe.hpp"
#include "cfma/probe/probe_config.hpp"
#include "cfma/store/h5.hpp"

namespace cfma::probe {

// A feature set with where it comes from.
struct ProbeSetInfo {
  store::FeatureSet set;
  std::string kind;  // activation | hand | input | concat
  std::string run, arch, task, layer;
  std::int64_t seed = -1;  // -1: not a network's features
};

struct ProbeRow {
  const ProbeSetInfo* info = nullptr;
  ProbeMetric metric;
};

struct TransferRow {
  std::string arch, model_task, layer, target, split, metric;
  double mean = 0, sd = 0;          // sd over seeds with n - 1 (NaN for one seed)
  double ci95_low = 0, ci95_high = 0;  // 95 % Student-t interval of the mean (NaN for one seed)
  int seeds = 0;
};

struct BaselineRow {
  std::string baseline;  // chance | noise | input | untrained:<arch>/<layer>
  std::string target, split, metric;
  double value = 0;
  int seeds = 0;  // untrained: seeds averaged; else 0
};

struct ProbeTables {
  SetProbe chance;                 // baselines.hpp: majority class / train mean
  std::vector<BaselineRow> baselines;
  std::vector<ProbeSetInfo> sets;  // probed sets, in order
  std::vector<SetProbe> results;   // aligned with sets
  std::vector<TransferRow> transfer;
  std::vector<std::string> concat_ranking;  // hand sets by family test accuracy, best first
  std::vector<ProbeSetInfo> concat_sets;
  std::vector<SetProbe> concat_results;
  std::vector<std::string> concat_added;  // the hand set appended, aligned with concat_sets
};

// The layers of an activations file that the stage probes: probe.layers that the file's
// architecture has (its "arch_layers" attribute), or every stored layer when probe.layers is
// empty. Throws ProbeError when the architecture has a listed layer that the file lacks.
std::vector<std::string> probed_layers(const store::File& file, const ProbeConfig& config);
// Every set the stage probes (before the concat experiment), filtered by config.sets. A run
// whose architecture has none of probe.layers is skipped with a log line. Throws ProbeError
// for a run lacking a configured layer or extracted from another features.h5.
std::vector<ProbeSetInfo> probe_sets(const WorkPaths& paths, const ProbeConfig& config);
StageKey probe_stage_key(const WorkPaths& paths, const ProbeConfig& config);

// Collective: probes everything and returns the tables (identical on every rank). With
// `progress`, sets finished by an earlier attempt are reused and each new one is saved; a stop
// signal between sets throws Interrupted on every rank.
ProbeTables run_probes(const boost::mpi::communicator& comm, const WorkPaths& paths, const ProbeConfig& config,
                       par::StageProgress* progress = nullptr);
std::vector<TransferRow> transfer_matrix(const ProbeTables& tables, const ProbeConfig& config);
// The reference rows of every probe table: chance, the noise set, the input (when probed) and
// the untrained twin of each architecture and layer (mean over its seeds, from `transfer`).
std::vector<BaselineRow> baseline_rows(const ProbeTables& tables);
// Rank 0: writes the CSVs and JSON atomically, then the manifest.
void write_probe_outputs(const WorkPaths& paths, const ProbeTables& tables, const ProbeConfig& config,
                         const StageKey& key);
// The whole stage; returns false when it was up to date and skipped.
bool run_probe_stage(const boost::mpi::communicator& comm, const WorkPaths& paths, const ProbeConfig& config,
                     bool force);

}  // namespace cfma::probe
