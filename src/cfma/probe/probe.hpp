#pragma once
// One probe of one feature set: standardise (train statistics, or per split in "paper" mode),
// then the classification probes (logistic: family, pitch_class) and the regression probes
// (least squares: pitch, velocity, solved together), each scored on train and test; with
// probe.control_tasks, the same probes on the control targets (control_task.hpp).
// Collective over `comm`.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/mpi/communicator.hpp>
#include <nlohmann/json.hpp>

#include "cfma/probe/probe_config.hpp"
#include "cfma/store/feature_sets.hpp"

namespace cfma::probe {

// Targets and splits from features.h5 (small: every rank reads them whole).
struct ProbeLabels {
  std::filesystem::path file;
  std::int64_t rows = 0;
  std::vector<int> family;  // 0..classes-1
  int classes = 0;
  std::vector<double> pitch, velocity;  // raw MIDI values
  std::vector<std::int64_t> instrument;   // NSynth instrument ids (empty: the file has none)
  std::vector<std::int64_t> train, test;  // row indices, in the file's order
};

// A classification target's labels on the train and test rows: the classes are the distinct
// values among the train rows (ascending, as scikit-learn's classes_), so that every class has
// training rows; a test value outside them is kUnseenClass.
struct ClassLabels {
  std::vector<int> train, test;  // aligned with the given row lists
  std::vector<int> classes;      // the original values, ascending
};
ClassLabels class_labels(const std::vector<int>& values, const std::vector<std::int64_t>& train_rows,
                         const std::vector<std::int64_t>& test_rows, const std::vector<std::int64_t>& all_train);
ProbeLabels load_probe_labels(const std::filesystem::path& features_h5);
// Throws ProbeError for out-of-range or repeated indices, or overlapping splits.
void check_splits(const ProbeLabels& labels);

struct ProbeMetric {
  std::string target;  // family | pitch | velocity | pitch_class, or <target>_control
  std::string split;   // train | test
  std::string metric;  // accuracy | log_loss | rmse | r2
  double value = 0;
};

struct SetProbe {
  std::vector<ProbeMetric> metrics;
  nlohmann::json solver = nlohmann::json::object();  // per target: iterations, convergence...
  double value(const std::string& target, const std::string& split, const std::string& metric) const;
};

// A probe result as JSON and back (the probe stage's saved units).
nlohmann::json to_json(const SetProbe& result);
SetProbe set_probe_from_json(const nlohmann::json& j);

// This rank's rows of `split_rows`: its par::block_of block, sorted ascending.
std::vector<std::int64_t> local_block(const std::vector<std::int64_t>& split_rows, int rank, int size);

SetProbe probe_feature_set(const boost::mpi::communicator& comm, const store::FeatureSet& set,
                           const ProbeLabels& labels, const ProbeConfig& config);

}  // namespace cfma::probe
