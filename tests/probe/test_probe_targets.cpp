// The probe's targets beyond the paper's three: pitch as a classification target, the chance
// baselines, the control tasks (Hewitt and Liang) and selectivity; the solver options. Against
// scikit-learn 1.2.1 (tests/data/probe_targets_sklearn.json, recipe in tests/data/README.md).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include <boost/mpi/communicator.hpp>
#include <nlohmann/json.hpp>

#include "cfma/core/error.hpp"
#include "cfma/probe/baselines.hpp"
#include "cfma/probe/control_task.hpp"
#include "cfma/probe/lbfgs.hpp"
#include "cfma/probe/local_rows.hpp"
#include "cfma/probe/paper_sgd.hpp"
#include "cfma/probe/probe.hpp"
#include "tests/probe/probe_fixture.hpp"
#include "tests/test_paths.hpp"

namespace cfma::probe {
namespace {

using test::self;

nlohmann::json targets_reference() {
  std::ifstream in(test::source_dir() / "tests/data/probe_targets_sklearn.json");
  return nlohmann::json::parse(in);
}

ProbeLabels labels_with_instruments(const test::ProbeProblem& p, const nlohmann::json& ref,
                                    const std::filesystem::path& file) {
  ProbeLabels labels;
  labels.file = file;
  labels.rows = p.rows;
  labels.family.assign(p.family.begin(), p.family.end());
  for (const int y : labels.family) labels.classes = std::max(labels.classes, y + 1);
  labels.pitch.assign(p.pitch.begin(), p.pitch.end());
  labels.velocity.assign(p.velocity.begin(), p.velocity.end());
  labels.instrument = ref["instrument"].get<std::vector<std::int64_t>>();
  labels.train = p.train;
  labels.test = p.test;
  return labels;
}

TEST(ProbeTargets, PitchClassificationMatchesScikitLearnWithATestPitchOutsideTheTrainPitches) {
  const auto ref = targets_reference();
  const auto p = test::sklearn_problem("probe_targets_sklearn.json");
  const auto file = test::scratch_dir("probe-targets") / "x.h5";
  test::write_problem(file, p);
  const auto labels = labels_with_instruments(p, ref, file);
  ProbeConfig config;
  config.targets = {"pitch_class"};
  config.control_tasks = false;
  config.C = 0.5;
  config.tol = 1e-10;
  const auto result = probe_feature_set(self(), test::problem_set(file, p), labels, config);
  const auto& sk = ref["pitch_class"];
  EXPECT_EQ(result.solver["pitch_class"]["classes"].get<std::size_t>(), sk["classes"].size());  // 66 is test-only
  EXPECT_DOUBLE_EQ(result.value("pitch_class", "train", "accuracy"), sk["train_accuracy"].get<double>());
  EXPECT_DOUBLE_EQ(result.value("pitch_class", "test", "accuracy"), sk["test_accuracy"].get<double>());
  // Log-loss over the test notes whose pitch has train notes (sklearn: predict_proba).
  EXPECT_NEAR(result.value("pitch_class", "train", "log_loss"), sk["train_log_loss"].get<double>(), 2e-5);
  EXPECT_NEAR(result.value("pitch_class", "test", "log_loss"), sk["test_log_loss"].get<double>(), 2e-5);
}

TEST(ProbeTargets, ChanceBaselinesMatchScikitLearnDummyEstimators) {
  const auto ref = targets_reference();
  const auto p = test::sklearn_problem("probe_targets_sklearn.json");
  const auto labels = labels_with_instruments(p, ref, "unused.h5");
  ProbeConfig config;
  config.targets = {"family", "pitch", "velocity", "pitch_class"};
  const auto chance = chance_baselines(labels, config);
  for (const auto& [target, key] : {std::pair{"family", "majority_family"}, std::pair{"pitch_class", "majority_pitch"}})
    for (const char* split : {"train", "test"}) {
      EXPECT_DOUBLE_EQ(chance.value(target, split, "accuracy"), ref[key][std::string(split) + "_accuracy"].get<double>())
          << target << " " << split;
      EXPECT_NEAR(chance.value(target, split, "log_loss"), ref[key][std::string(split) + "_log_loss"].get<double>(), 1e-12)
          << target << " " << split;
    }
  for (const auto& [target, key] : {std::pair{"pitch", "mean_pitch"}, std::pair{"velocity", "mean_velocity"}})
    for (const char* split : {"train", "test"}) {
      EXPECT_NEAR(chance.value(target, split, "rmse"), ref[key][std::string(split) + "_rmse"].get<double>(), 1e-12);
      EXPECT_NEAR(chance.value(target, split, "r2"), ref[key][std::string(split) + "_r2"].get<double>(), 1e-12);
    }
}

TEST(ControlTask, OneRandomFamilyPerInstrumentAndOnePitchPerPitchSeededAndOrderFree) {
  const auto ref = targets_reference();
  const auto p = test::sklearn_problem("probe_targets_sklearn.json");
  const auto labels = labels_with_instruments(p, ref, "unused.h5");
  const auto control = control_targets(labels.family, labels.classes, labels.instrument, labels.pitch, 1);
  ASSERT_EQ(control.family.size(), labels.family.size());
  std::map<std::int64_t, std::set<int>> per_instrument;
  std::map<double, std::set<double>> per_pitch;
  std::set<double> pitches(labels.pitch.begin(), labels.pitch.end());
  for (std::size_t i = 0; i < control.family.size(); ++i) {
    per_instrument[labels.instrument[i]].insert(control.family[i]);
    per_pitch[labels.pitch[i]].insert(control.pitch[i]);
    EXPECT_TRUE(pitches.count(control.pitch[i])) << "a control pitch is one of the task's pitches";
  }
  for (const auto& [id, families] : per_instrument) EXPECT_EQ(families.size(), 1u) << "instrument " << id;
  for (const auto& [pitch, values] : per_pitch) EXPECT_EQ(values.size(), 1u) << "pitch " << pitch;
  // 24 instruments over 4 families: the draw is not the task's own labels, and uses several.
  std::set<int> used(control.family.begin(), control.family.end());
  EXPECT_GE(used.size(), 2u);
  EXPECT_NE(control.family, labels.family);
  // A pure function of (seed, key): reversing the rows reverses the targets; another seed differs.
  auto reversed = [](auto v) { std::reverse(v.begin(), v.end()); return v; };
  const auto backwards = control_targets(reversed(labels.family), labels.classes, reversed(labels.instrument),
                                         reversed(labels.pitch), 1);
  EXPECT_EQ(reversed(backwards.family), control.family);
  EXPECT_EQ(reversed(backwards.pitch), control.pitch);
  const auto other = control_targets(labels.family, labels.classes, labels.instrument, labels.pitch, 2);
  EXPECT_NE(other.family, control.family);
  EXPECT_NE(other.pitch, control.pitch);
  // No instrument ids: no family control.
  EXPECT_TRUE(control_targets(labels.family, labels.classes, {}, labels.pitch, 1).family.empty());
}

TEST(ControlTask, ProbeReportsControlScoresAndSelectivity) {
  const auto ref = targets_reference();
  const auto p = test::sklearn_problem("probe_targets_sklearn.json");
  const auto file = test::scratch_dir("probe-control") / "x.h5";
  test::write_problem(file, p);
  const auto labels = labels_with_instruments(p, ref, file);
  ProbeConfig config;
  config.targets = {"family", "pitch", "velocity", "pitch_class"};
  config.C = 0.5;
  const auto result = probe_feature_set(self(), test::problem_set(file, p), labels, config);
  for (const auto& [task, metric] : {std::pair{"family", "accuracy"}, std::pair{"pitch_class", "accuracy"},
                                     std::pair{"pitch", "r2"}})
    for (const char* split : {"train", "test"}) {
      const double score = result.value(task, split, metric);
      const double control = result.value(std::string(task) + "_control", split, metric);
      EXPECT_DOUBLE_EQ(result.value(std::string(task) + "_selectivity", split, metric), score - control) << task;
    }
  // The features carry family and pitch, not the instruments' random labels: selective on test.
  EXPECT_GT(result.value("family_selectivity", "test", "accuracy"), 0.3);
  EXPECT_GT(result.value("pitch_selectivity", "test", "r2"), 0.3);
  // The control probes have the task probes' capacity: they fit their train labels above chance.
  const auto chance = chance_baselines(labels, config);
  EXPECT_GT(result.value("family_control", "train", "accuracy"), chance.value("family", "train", "accuracy"));
}

// Q9's last-batch RMSE: the OLS probe scored on the last 36 train / 12 test notes alone (the
// final partial batch of 64), against scikit-learn (tests/data/README.md).
TEST(ProbeTargets, LastBatchRmseMatchesScikitLearn) {
  std::ifstream in(test::source_dir() / "tests/data/probe_last_batch_sklearn.json");
  const auto ref = nlohmann::json::parse(in);
  const auto p = test::sklearn_problem("probe_targets_sklearn.json");
  const auto file = test::scratch_dir("probe-last-batch") / "x.h5";
  test::write_problem(file, p);
  const auto labels = labels_with_instruments(p, targets_reference(), file);
  ProbeConfig config;
  config.targets = {"pitch", "velocity"};
  config.control_tasks = false;
  config.last_batch_rmse = true;
  const auto result = probe_feature_set(self(), test::problem_set(file, p), labels, config);
  for (const auto& [name, j] : {std::pair{"pitch", 0}, std::pair{"velocity", 1}}) {
    EXPECT_NEAR(result.value(name, "train", "rmse_last_batch"), ref["train_rmse_last_batch"][j].get<double>(), 1e-8);
    EXPECT_NEAR(result.value(name, "test", "rmse_last_batch"), ref["test_rmse_last_batch"][j].get<double>(), 1e-8);
    EXPECT_NEAR(result.value(name, "train", "rmse"), ref["train_rmse"][j].get<double>(), 1e-8);
  }
}

// The paper-mode SGD probe's weights equal PyTorch's after 100 epochs (same init from the
// same seed, same batches, double softmax; tests/data/README.md).
TEST(PaperSgd, WeightsMatchPyTorch) {
  std::ifstream in(test::source_dir() / "tests/data/probe_paper_sgd_torch.json");
  const auto ref = nlohmann::json::parse(in);
  const auto p = test::sklearn_problem();
  const auto file = test::scratch_dir("probe-paper-sgd") / "x.h5";
  test::write_problem(file, p);
  LocalRows train(test::problem_set(file, p), p.train, 64, true);
  const auto stats = column_stats(self(), train);
  train.standardise(stats.mean, stats.inv_scale());
  std::vector<int> y;
  for (const auto r : p.train) y.push_back(p.family[static_cast<std::size_t>(r)]);
  const auto fitted = fit_logistic_paper_sgd(self(), train, 0, static_cast<std::int64_t>(p.train.size()), y, 4, {});
  const auto weight = ref["weight"].get<std::vector<std::vector<double>>>();  // K x D
  for (std::size_t c = 0; c < weight.size(); ++c) {
    for (std::size_t j = 0; j < weight[c].size(); ++j)
      EXPECT_NEAR(fitted.model.weights(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(c)), weight[c][j], 1e-9);
    EXPECT_NEAR(fitted.model.intercept[static_cast<Eigen::Index>(c)], ref["bias"][c].get<double>(), 1e-9);
  }
  EXPECT_DOUBLE_EQ(fitted.running_train_accuracy, ref["running_train_accuracy"].get<double>());
  // Without the double softmax the same 100 epochs move further from the init.
  PaperSgdOptions plain;
  plain.double_softmax = false;
  const auto single = fit_logistic_paper_sgd(self(), train, 0, static_cast<std::int64_t>(p.train.size()), y, 4, plain);
  EXPECT_GT(single.model.weights.norm(), fitted.model.weights.norm());
}

// Strong Wolfe and Armijo reach the same minimum of Rosenbrock's function; strong Wolfe in
// fewer evaluations; the diagonal preconditioner handles badly scaled variables.
TEST(Lbfgs, LineSearchesAndPreconditionerReachTheMinimum) {
  const Objective rosenbrock = [](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    double f = 0;
    g.setZero();
    for (Eigen::Index i = 0; i + 1 < x.size(); ++i) {
      const double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
      f += 100 * a * a + b * b;
      g[i] += -400 * a * x[i] - 2 * b;
      g[i + 1] += 200 * a;
    }
    return f;
  };
  LbfgsOptions options;
  options.tol = 1e-9;
  options.max_iter = 5000;
  std::map<std::string, int> evaluations;
  for (const auto search : {LineSearch::strong_wolfe, LineSearch::armijo}) {
    options.line_search = search;
    Eigen::VectorXd x = Eigen::VectorXd::Constant(10, -1.2);
    const auto r = minimise_lbfgs(rosenbrock, x, options);
    EXPECT_TRUE(r.converged) << to_string(search) << ": " << r.stop_reason;
    EXPECT_NEAR((x - Eigen::VectorXd::Ones(10)).cwiseAbs().maxCoeff(), 0.0, 1e-7) << to_string(search);
    evaluations[to_string(search)] = r.evaluations;
  }
  EXPECT_LT(evaluations["strong_wolfe"], evaluations["armijo"]);
  // f = sum_i s_i x_i^2 with s spanning 1e-4..1e4: the preconditioner 1/s makes it one step.
  Eigen::VectorXd scale(20);
  for (Eigen::Index i = 0; i < scale.size(); ++i) scale[i] = std::pow(10.0, -4.0 + 8.0 * static_cast<double>(i) / 19);
  const Objective quadratic = [&](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    g = 2 * scale.cwiseProduct(x);
    return x.cwiseProduct(x).dot(scale);
  };
  options.line_search = LineSearch::strong_wolfe;
  Eigen::VectorXd x = Eigen::VectorXd::Ones(20), y = x;
  const auto plain = minimise_lbfgs(quadratic, x, options);
  options.preconditioner = scale.cwiseInverse();
  const auto preconditioned = minimise_lbfgs(quadratic, y, options);
  EXPECT_TRUE(preconditioned.converged) << preconditioned.stop_reason;
  EXPECT_LE(preconditioned.iterations, 2);
  EXPECT_GT(plain.iterations, 100);  // condition number 1e8
  EXPECT_EQ(parse_line_search("armijo"), LineSearch::armijo);
  EXPECT_THROW(parse_line_search("wolfe"), ConfigError);
}

}  // namespace
}  // namespace cfma::probe
