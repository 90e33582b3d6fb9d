// Probes on P ranks (ctest runs this under 1, 2 and 4) agree with the same probe on one rank
// (each rank recomputes it alone on MPI_COMM_SELF) to 1e-6 relative, for every solver path.
#include <gtest/gtest.h>

#include <fstream>

#include <boost/mpi/communicator.hpp>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/manifest.hpp"
#include "cfma/par/world.hpp"
#include "cfma/probe/probe.hpp"
#include "cfma/probe/probe_stage.hpp"
#include "tests/probe/probe_fixture.hpp"
#include "tests/test_paths.hpp"

namespace cfma::probe {
namespace {

void expect_same(const SetProbe& a, const SetProbe& b) {
  ASSERT_EQ(a.metrics.size(), b.metrics.size());
  for (std::size_t i = 0; i < a.metrics.size(); ++i)
    EXPECT_NEAR(a.metrics[i].value, b.metrics[i].value, 1e-6 * std::max(1.0, std::abs(b.metrics[i].value)))
        << a.metrics[i].target << " " << a.metrics[i].split << " " << a.metrics[i].metric;
}

TEST(ProbeMpi, RanksAgreeWithOneRank) {
  const boost::mpi::communicator self(MPI_COMM_SELF, boost::mpi::comm_attach);
  const auto p = test::synthetic_problem(400, 20, 5, 9);
  const auto file = test::scratch_dir("probe-mpi") / "x.h5";
  test::write_problem(file, p);
  const auto labels = load_probe_labels(file);
  for (const std::int64_t cholesky_max_dim : {4096, 0}) {  // LDLT, then CG
    for (const double memory_mb : {100.0, 0.0}) {          // in memory, then streamed
      ProbeConfig config;
      config.tol = 1e-9;
      config.cholesky_max_dim = cholesky_max_dim;
      config.memory_mb = memory_mb;
      config.chunk_rows = 29;
      const auto distributed = probe_feature_set(par::World::comm(), test::problem_set(file, p), labels, config);
      const auto single = probe_feature_set(self, test::problem_set(file, p), labels, config);
      expect_same(distributed, single);
      EXPECT_GT(single.value("family", "test", "accuracy"), 0.5);
    }
  }
}

// The paper-mode SGD probe (Q12) at 1, 2 and 4 ranks against PyTorch (tests/data/README.md):
// the batches are ranges of the global train order, whichever ranks hold their rows.
TEST(ProbeMpi, PaperSgdProbeMatchesPyTorchOnAnyRankCount) {
  std::ifstream in(test::source_dir() / "tests/data/probe_paper_sgd_torch.json");
  const auto ref = nlohmann::json::parse(in);
  const auto p = test::sklearn_problem();
  const auto file = test::scratch_dir("probe-mpi-paper-sgd") / "x.h5";
  test::write_problem(file, p);
  const auto labels = load_probe_labels(file);
  ProbeConfig config;
  config.targets = {"family"};
  config.control_tasks = false;
  config.logistic_solver = "paper_sgd";
  const auto result = probe_feature_set(par::World::comm(), test::problem_set(file, p), labels, config);
  EXPECT_EQ(result.solver["family"]["solver"], "paper_sgd");
  EXPECT_DOUBLE_EQ(result.value("family", "train", "running_accuracy"), ref["running_train_accuracy"].get<double>());
  EXPECT_DOUBLE_EQ(result.value("family", "train", "accuracy"), ref["train_accuracy"].get<double>());
  EXPECT_DOUBLE_EQ(result.value("family", "test", "accuracy"), ref["test_accuracy"].get<double>());
}

TEST(ProbeMpi, RowSpaceRanksAgreeWithOneRank) {
  // 42 train rows < 200 columns: each rank owns a column block of the Gram.
  const boost::mpi::communicator self(MPI_COMM_SELF, boost::mpi::comm_attach);
  const auto p = test::sklearn_problem("probe_rowspace_sklearn.json");
  const auto file = test::scratch_dir("probe-mpi-rowspace") / "x.h5";
  test::write_problem(file, p);
  const auto labels = load_probe_labels(file);
  for (const double ridge : {0.0, 10.0}) {
    ProbeConfig config;
    config.tol = 1e-9;
    config.ridge = ridge;
    const auto distributed = probe_feature_set(par::World::comm(), test::problem_set(file, p), labels, config);
    const auto single = probe_feature_set(self, test::problem_set(file, p), labels, config);
    EXPECT_TRUE(distributed.solver.contains("row_space_rank"));
    expect_same(distributed, single);
  }
}

TEST(ProbeMpi, StageOutputsDoNotDependOnRankCount) {
  const WorkPaths paths{test::scratch_dir("probe-mpi-stage")};
  test::write_workdir(paths, 300,  // n_train 210 > widest set (150): OLS well-posed
                      {"regular-family-s0", "regular-untrained-s0"}, {"conv3"});
  ProbeConfig config;
  config.layers = {"conv3"};
  config.concat_top_k = 2;
  config.tol = 1e-9;
  const auto tables = run_probes(par::World::comm(), paths, config);
  const boost::mpi::communicator self(MPI_COMM_SELF, boost::mpi::comm_attach);
  const auto single = run_probes(self, paths, config);
  ASSERT_EQ(tables.results.size(), single.results.size());
  for (std::size_t i = 0; i < tables.results.size(); ++i) expect_same(tables.results[i], single.results[i]);
  ASSERT_EQ(tables.concat_results.size(), 4u);
  for (std::size_t i = 0; i < tables.concat_results.size(); ++i) expect_same(tables.concat_results[i], single.concat_results[i]);
}

TEST(ProbeMpi, StageWritesOutputsSkipsWhenUpToDateAndNamesAMissingLayer) {
  const WorkPaths paths{test::scratch_dir("probe-mpi-outputs")};
  test::write_workdir(paths, 200, {"regular-family-s0"}, {"conv3"});
  ProbeConfig config;
  config.layers = {"conv3"};
  config.concat_top_k = 1;
  config.targets = {"family", "pitch", "velocity", "pitch_class"};
  auto& comm = par::World::comm();
  EXPECT_TRUE(run_probe_stage(comm, paths, config, false));   // computed
  EXPECT_FALSE(run_probe_stage(comm, paths, config, false));  // up to date: skipped
  const auto probes = read_file(paths.results() / "probes.csv");
  EXPECT_EQ(probes.rfind("set,run,arch,task,seed,layer,target,split,metric,value\n", 0), 0u);
  // regular-family-s0/conv3 probed for 3 targets; accuracy for family, rmse + r2 for the others.
  EXPECT_NE(probes.find("regular-family-s0/conv3,regular-family-s0,regular,family,0,conv3,family,test,accuracy,"),
            std::string::npos);
  EXPECT_NE(read_file(paths.results() / "transfer.csv").find("regular,family,conv3,pitch,test,rmse,"), std::string::npos);
  EXPECT_TRUE(read_manifest(paths.results() / "probes.csv").has_value());
  // Reference rows: chance and the noise set for every target; selectivity beside each score.
  const auto baselines = read_file(paths.results() / "baselines.csv");
  EXPECT_EQ(baselines.rfind("baseline,target,split,metric,value,seeds\n", 0), 0u);
  for (const char* row : {"\nchance,family,test,accuracy,", "\nchance,pitch,test,rmse,", "\nchance,pitch_class,test,accuracy,",
                          "\nnoise,family,test,accuracy,", "\nnoise,pitch_selectivity,test,r2,"})
    EXPECT_NE(baselines.find(row), std::string::npos) << row;
  EXPECT_NE(probes.find(",pitch_class_selectivity,test,accuracy,"), std::string::npos);

  // A layer the config requires but the activations file lacks: one error naming file and layer.
  config.layers = {"conv3", "conv2"};
  try {
    run_probe_stage(comm, paths, config, false);
    ADD_FAILURE() << "expected ProbeError";
  } catch (const ProbeError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("regular-family-s0.h5"), std::string::npos) << message;
    EXPECT_NE(message.find("missing layer 'conv2'"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace cfma::probe
