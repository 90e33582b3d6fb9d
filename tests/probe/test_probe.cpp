// Probes against scikit-learn 1.2.1 (tests/data/probe_sklearn.json, see tests/data/README.md),
// solver paths against each other, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <boost/mpi/communicator.hpp>
#include <nlohmann/json.hpp>

#include "cfma/core/error.hpp"
#include "cfma/par/world.hpp"
#include "cfma/probe/least_squares.hpp"
#include "cfma/probe/logistic.hpp"
#include "cfma/probe/probe.hpp"
#include "cfma/probe/seed_summary.hpp"
#include "tests/probe/probe_fixture.hpp"
#include "tests/test_paths.hpp"

namespace cfma::probe {
namespace {

using test::self;

nlohmann::json reference() {
  std::ifstream in(test::source_dir() / "tests/data/probe_sklearn.json");
  return nlohmann::json::parse(in);
}

struct Fitted {
  LogisticModel logistic;
  LinearModel ols, ridge;
};

// Standardised train rows of the sklearn problem (the pipeline's own code path).
struct Prepared {
  test::ProbeProblem p = test::sklearn_problem();
  std::filesystem::path file;
  std::vector<int> y_train, y_test;
  Eigen::MatrixXd t_train, t_test;
  Prepared(const std::string& name) {
    file = test::scratch_dir(name) / "x.h5";
    test::write_problem(file, p);
    auto pick = [&](const std::vector<std::int64_t>& rows, std::vector<int>& y, Eigen::MatrixXd& t) {
      auto sorted = rows;
      std::sort(sorted.begin(), sorted.end());
      t.resize(static_cast<Eigen::Index>(sorted.size()), 2);
      for (std::size_t i = 0; i < sorted.size(); ++i) {
        const auto r = static_cast<std::size_t>(sorted[i]);
        y.push_back(p.family[r]);
        t(static_cast<Eigen::Index>(i), 0) = p.pitch[r];
        t(static_cast<Eigen::Index>(i), 1) = p.velocity[r];
      }
      return sorted;
    };
    train_rows = pick(p.train, y_train, t_train);
    test_rows = pick(p.test, y_test, t_test);
  }
  std::vector<std::int64_t> train_rows, test_rows;
  std::pair<LocalRows, LocalRows> rows(bool in_memory, std::int64_t chunk = 64) {
    LocalRows train(test::problem_set(file, p), train_rows, chunk, in_memory);
    LocalRows test(test::problem_set(file, p), test_rows, chunk, in_memory);
    const auto stats = column_stats(self(), train);
    train.standardise(stats.mean, stats.inv_scale());
    test.standardise(stats.mean, stats.inv_scale());
    return {std::move(train), std::move(test)};
  }
};

TEST(ProbeSklearn, LogisticMatchesScikitLearn) {
  const auto ref = reference();
  Prepared data("probe-sk-logistic");
  auto [train, test] = data.rows(true);
  LbfgsOptions options;
  options.tol = 1e-9;
  options.max_iter = 10000;
  // Each solver: L-BFGS (strong Wolfe, then Armijo, then preconditioned) and Newton-CG.
  for (const auto& [solver, search, precondition] :
       {std::tuple{LogisticSolver::lbfgs, LineSearch::strong_wolfe, false},
        std::tuple{LogisticSolver::lbfgs, LineSearch::armijo, false},
        std::tuple{LogisticSolver::lbfgs, LineSearch::strong_wolfe, true},
        std::tuple{LogisticSolver::newton_cg, LineSearch::strong_wolfe, false}}) {
  SCOPED_TRACE(std::string(solver == LogisticSolver::newton_cg ? "newton" : "lbfgs ") + to_string(search) +
               (precondition ? " preconditioned" : ""));
  options.line_search = search;
  const auto model = fit_logistic(self(), train, data.y_train, 4, ref["C"].get<double>(), options, precondition, solver);
  EXPECT_TRUE(model.solver.converged) << model.solver.stop_reason;
  EXPECT_LT(model.solver.iterations, solver == LogisticSolver::newton_cg ? 20 : 100);
  // scikit-learn's own solution is converged only to max |grad| = 1.3e-6 of the mean objective
  // (scipy's L-BFGS-B stops on its relative-reduction test after 18 iterations whatever tol
  // is), i.e. its coefficients are accurate to ~1e-4: compare to 2e-4.
  const auto coef = ref["logistic"]["coef"].get<std::vector<std::vector<double>>>();  // K x D
  const auto intercept = ref["logistic"]["intercept"].get<std::vector<double>>();
  double intercept_mean = 0;
  for (const double b : intercept) intercept_mean += b / 4;
  for (int k = 0; k < 4; ++k) {
    EXPECT_NEAR(model.intercept[k], intercept[static_cast<std::size_t>(k)] - intercept_mean, 2e-4) << k;
    for (int j = 0; j < 12; ++j)
      EXPECT_NEAR(model.weights(j, k), coef[static_cast<std::size_t>(k)][static_cast<std::size_t>(j)], 2e-4) << k << "," << j;
  }
  EXPECT_NEAR(model.intercept.sum(), 0.0, 1e-9);
  EXPECT_DOUBLE_EQ(evaluate_logistic(self(), train, data.y_train, model).accuracy,
                   ref["logistic"]["train_accuracy"].get<double>());
  EXPECT_DOUBLE_EQ(evaluate_logistic(self(), test, data.y_test, model).accuracy,
                   ref["logistic"]["test_accuracy"].get<double>());
  }
}

void expect_linear(const LinearModel& model, LocalRows& train, LocalRows& test, const Prepared& data,
                   const nlohmann::json& ref, double tol) {
  const auto coef = ref["coef"].get<std::vector<std::vector<double>>>();  // T x D
  for (int t = 0; t < 2; ++t) {
    EXPECT_NEAR(model.intercept[t], ref["intercept"][static_cast<std::size_t>(t)].get<double>(), tol);
    for (int j = 0; j < 12; ++j)
      EXPECT_NEAR(model.weights(j, t), coef[static_cast<std::size_t>(t)][static_cast<std::size_t>(j)], tol);
  }
  const auto m_train = evaluate_linear(self(), train, data.t_train, model);
  const auto m_test = evaluate_linear(self(), test, data.t_test, model);
  for (int t = 0; t < 2; ++t) {
    EXPECT_NEAR(m_train.rmse[t], ref["train_rmse"][static_cast<std::size_t>(t)].get<double>(), tol);
    EXPECT_NEAR(m_test.rmse[t], ref["test_rmse"][static_cast<std::size_t>(t)].get<double>(), tol);
  }
}

TEST(ProbeSklearn, OlsAndRidgeMatchScikitLearnByLdltAndCg) {
  const auto ref = reference();
  Prepared data("probe-sk-linear");
  auto [train, test] = data.rows(false, 50);  // streaming path
  const auto ols = fit_least_squares(self(), train, data.t_train, {0.0, 4096, 1e-12, 100});
  EXPECT_EQ(ols.solver, "ldlt");
  expect_linear(ols, train, test, data, ref["ols"], 1e-8);
  const auto m_test = evaluate_linear(self(), test, data.t_test, ols);
  EXPECT_NEAR(m_test.r2[0], ref["ols"]["test_r2"][0].get<double>(), 1e-9);
  EXPECT_NEAR(m_test.r2[1], ref["ols"]["test_r2"][1].get<double>(), 1e-9);
  const auto ridge = fit_least_squares(self(), train, data.t_train, {10.0, 4096, 1e-12, 100});
  expect_linear(ridge, train, test, data, ref["ridge_fit"], 1e-8);
  // cholesky_max_dim = 0 forces CG on the normal equations.
  const auto cg = fit_least_squares(self(), train, data.t_train, {0.0, 0, 1e-13, 200});
  EXPECT_EQ(cg.solver, "cg");
  EXPECT_TRUE(cg.converged);
  EXPECT_LE(cg.iterations, 30);
  expect_linear(cg, train, test, data, ref["ols"], 1e-6);
  const auto cg_ridge = fit_least_squares(self(), train, data.t_train, {10.0, 0, 1e-13, 200});
  expect_linear(cg_ridge, train, test, data, ref["ridge_fit"], 1e-6);
}

TEST(Probe, FeatureSetProbeMatchesScikitLearnAndIsIndependentOfMemoryMode) {
  const auto ref = reference();
  Prepared data("probe-set");
  ProbeLabels labels;
  labels.file = data.file;
  labels.rows = data.p.rows;
  labels.family.assign(data.p.family.begin(), data.p.family.end());
  labels.classes = 4;
  labels.pitch.assign(data.p.pitch.begin(), data.p.pitch.end());
  labels.velocity.assign(data.p.velocity.begin(), data.p.velocity.end());
  labels.train = data.p.train;
  labels.test = data.p.test;
  ProbeConfig config;
  config.C = 0.5;
  config.tol = 1e-10;
  config.chunk_rows = 37;
  const auto in_memory = probe_feature_set(self(), test::problem_set(data.file, data.p), labels, config);
  config.memory_mb = 0;
  const auto streamed = probe_feature_set(self(), test::problem_set(data.file, data.p), labels, config);
  EXPECT_TRUE(in_memory.solver["in_memory"].get<bool>());
  EXPECT_FALSE(streamed.solver["in_memory"].get<bool>());
  ASSERT_EQ(in_memory.metrics.size(), streamed.metrics.size());
  for (std::size_t i = 0; i < in_memory.metrics.size(); ++i)
    EXPECT_NEAR(in_memory.metrics[i].value, streamed.metrics[i].value, 1e-9) << in_memory.metrics[i].metric;
  EXPECT_DOUBLE_EQ(in_memory.value("family", "test", "accuracy"), ref["logistic"]["test_accuracy"].get<double>());
  EXPECT_NEAR(in_memory.value("pitch", "test", "rmse"), ref["ols"]["test_rmse"][0].get<double>(), 1e-8);
  EXPECT_NEAR(in_memory.value("velocity", "train", "rmse"), ref["ols"]["train_rmse"][1].get<double>(), 1e-8);

  // Paper scaler (Q11): train metrics unchanged, test metrics change.
  config.scaler = "paper";
  const auto paper = probe_feature_set(self(), test::problem_set(data.file, data.p), labels, config);
  EXPECT_NEAR(paper.value("pitch", "train", "rmse"), in_memory.value("pitch", "train", "rmse"), 1e-9);
  EXPECT_GT(std::abs(paper.value("pitch", "test", "rmse") - in_memory.value("pitch", "test", "rmse")), 1e-4);
}

ProbeLabels labels_of(const test::ProbeProblem& p, const std::filesystem::path& file) {
  ProbeLabels labels;
  labels.file = file;
  labels.rows = p.rows;
  labels.family.assign(p.family.begin(), p.family.end());
  for (const int y : labels.family) labels.classes = std::max(labels.classes, y + 1);
  labels.pitch.assign(p.pitch.begin(), p.pitch.end());
  labels.velocity.assign(p.velocity.begin(), p.velocity.end());
  labels.train = p.train;
  labels.test = p.test;
  return labels;
}

// n_train = 42 < D = 200: the row-space path against scikit-learn (logistic C = 0.5, the
// minimum-norm OLS of numpy's lstsq, Ridge alpha 10) and against the primal path.
TEST(ProbeRowSpace, MatchesScikitLearnAndThePrimalPath) {
  std::ifstream in(test::source_dir() / "tests/data/probe_rowspace_sklearn.json");
  const auto ref = nlohmann::json::parse(in);
  const auto p = test::sklearn_problem("probe_rowspace_sklearn.json");
  ASSERT_LT(p.train.size(), static_cast<std::size_t>(p.cols));
  const auto file = test::scratch_dir("probe-rowspace") / "x.h5";
  test::write_problem(file, p);
  const auto labels = labels_of(p, file);
  ProbeConfig config;
  config.C = 0.5;
  config.tol = 1e-10;
  config.chunk_rows = 13;
  const auto ols = probe_feature_set(self(), test::problem_set(file, p), labels, config);
  EXPECT_EQ(ols.solver["row_space_rank"].get<int>(), 41);  // 42 centred rows span 41 dimensions
  EXPECT_DOUBLE_EQ(ols.value("family", "train", "accuracy"), ref["logistic"]["train_accuracy"].get<double>());
  EXPECT_DOUBLE_EQ(ols.value("family", "test", "accuracy"), ref["logistic"]["test_accuracy"].get<double>());
  for (const auto& [name, j] : {std::pair{"pitch", 0}, std::pair{"velocity", 1}}) {
    // The minimum-norm solution (numpy lstsq; scikit-learn's keeps a rounding-noise direction,
    // tests/data/README.md).
    EXPECT_NEAR(ols.value(name, "test", "rmse"), ref["ols_min_norm"]["test_rmse"][j].get<double>(), 1e-8) << name;
    EXPECT_LT(ols.value(name, "train", "rmse"), 1e-9) << name;  // interpolates the train rows
  }
  config.ridge = 10.0;
  const auto ridge = probe_feature_set(self(), test::problem_set(file, p), labels, config);
  for (const auto& [name, j] : {std::pair{"pitch", 0}, std::pair{"velocity", 1}}) {
    EXPECT_NEAR(ridge.value(name, "test", "rmse"), ref["ridge_fit"]["test_rmse"][j].get<double>(), 1e-8) << name;
    EXPECT_NEAR(ridge.value(name, "train", "rmse"), ref["ridge_fit"]["train_rmse"][j].get<double>(), 1e-8) << name;
  }
  // The primal path (D = 200 columns, LDLT) reaches the same ridge and logistic optimum.
  config.row_space = false;
  const auto primal = probe_feature_set(self(), test::problem_set(file, p), labels, config);
  EXPECT_FALSE(primal.solver.contains("row_space_rank"));
  for (const auto& m : ridge.metrics)
    EXPECT_NEAR(m.value, primal.value(m.target, m.split, m.metric), 1e-6 * std::max(1.0, std::abs(m.value)))
        << m.target << " " << m.split << " " << m.metric;
  // Paper scaler (Q11: test rows standardised with test statistics) in both paths.
  config.scaler = "paper";
  const auto paper_primal = probe_feature_set(self(), test::problem_set(file, p), labels, config);
  config.row_space = true;
  const auto paper_reduced = probe_feature_set(self(), test::problem_set(file, p), labels, config);
  for (const auto& m : paper_reduced.metrics)
    EXPECT_NEAR(m.value, paper_primal.value(m.target, m.split, m.metric), 1e-6 * std::max(1.0, std::abs(m.value)))
        << "paper " << m.target << " " << m.split << " " << m.metric;
  EXPECT_GT(std::abs(paper_reduced.value("pitch", "test", "rmse") - ridge.value("pitch", "test", "rmse")), 1e-4);
}

TEST(Probe, ConstantColumnIsLeftUnscaledAndIgnored) {
  auto p = test::synthetic_problem(200, 6, 3, 3);
  for (std::int64_t i = 0; i < p.rows; ++i) p.x[static_cast<std::size_t>(i * p.cols + 2)] = 4.25f;
  const auto file = test::scratch_dir("probe-constant") / "x.h5";
  test::write_problem(file, p);
  LocalRows rows(test::problem_set(file, p), p.train, 64, true);
  const auto stats = column_stats(self(), rows);
  EXPECT_EQ(stats.sd[2], 0.0);
  EXPECT_EQ(stats.inv_scale()[2], 1.0);
  rows.standardise(stats.mean, stats.inv_scale());
  Eigen::MatrixXd y(rows.rows(), 1);
  for (Eigen::Index i = 0; i < y.rows(); ++i) y(i, 0) = p.pitch[static_cast<std::size_t>(p.train[static_cast<std::size_t>(i)])];
  const auto model = fit_least_squares(self(), rows, y, {});
  EXPECT_TRUE(model.weights.allFinite());
  EXPECT_EQ(model.weights(2, 0), 0.0);
  const auto metrics = evaluate_linear(self(), rows, y, model);
  EXPECT_GT(metrics.r2[0], 0.5);
}

TEST(ProbeBadInput, NanFeatureRowCountAndSplitErrors) {
  auto p = test::synthetic_problem(90, 5, 3, 4);
  p.x[static_cast<std::size_t>(17 * p.cols + 3)] = std::nanf("");
  const auto dir = test::scratch_dir("probe-bad");
  test::write_problem(dir / "nan.h5", p);
  auto labels = load_probe_labels(dir / "nan.h5");
  ProbeConfig config;
  try {
    probe_feature_set(self(), test::problem_set(dir / "nan.h5", p), labels, config);
    ADD_FAILURE() << "NaN accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite value at row 17"), std::string::npos) << e.what();
  }
  auto short_set = test::problem_set(dir / "nan.h5", p);
  short_set.rows = 80;
  try {
    probe_feature_set(self(), short_set, labels, config);
    ADD_FAILURE() << "row mismatch accepted";
  } catch (const ProbeError& e) {
    EXPECT_NE(std::string(e.what()).find("has 80 rows"), std::string::npos) << e.what();
  }
  labels.test.push_back(90);
  try {
    check_splits(labels);
    ADD_FAILURE() << "out-of-range split accepted";
  } catch (const ProbeError& e) {
    EXPECT_NE(std::string(e.what()).find("outside [0, 90)"), std::string::npos) << e.what();
  }
  labels.test.back() = labels.train.front();
  EXPECT_THROW(check_splits(labels), ProbeError);
  EXPECT_THROW(load_probe_labels(dir / "missing.h5"), ProbeError);
}

}  // namespace
}  // namespace cfma::probe

// Mean, sample sd and the 95 % interval over seeds; references from scipy 1.10 (Debian 12):
//   /usr/bin/python3 -c "import numpy as np, scipy.stats as st; v = np.array([1,2,3,4,5]);
//     print(v.mean(), v.std(ddof=1), st.t.interval(0.95, len(v) - 1, loc=v.mean(),
//     scale=v.std(ddof=1) / np.sqrt(len(v))))"
// For [0.91, 0.87] (one degree of freedom) the quantile has a closed form, t = tan(0.475 pi)
// = 12.706204736174696, from which the interval below is computed (python3 math); scipy's
// t.ppf(0.975, 1) = 12.706204736432095 is itself off by 2e-11 relative there.
TEST(SeedSummary, MatchesScipyStudentT) {
  const auto five = cfma::probe::summarize_seeds({1, 2, 3, 4, 5});
  EXPECT_EQ(five.n, 5);
  EXPECT_NEAR(five.mean, 3.0, 1e-15);
  EXPECT_NEAR(five.sd, 1.5811388300841898, 1e-14);
  EXPECT_NEAR(five.ci95_low, 1.036756838522439, 1e-12);
  EXPECT_NEAR(five.ci95_high, 4.9632431614775605, 1e-12);
  const auto two = cfma::probe::summarize_seeds({0.91, 0.87});
  EXPECT_NEAR(two.sd, 0.028284271247461926, 1e-14);
  EXPECT_NEAR(two.ci95_low, 0.635875905276506, 1e-12);
  EXPECT_NEAR(two.ci95_high, 1.144124094723494, 1e-12);
  const auto one = cfma::probe::summarize_seeds({0.5});
  EXPECT_EQ(one.mean, 0.5);
  EXPECT_TRUE(std::isnan(one.sd) && std::isnan(one.ci95_low) && std::isnan(one.ci95_high));
  EXPECT_THROW(cfma::probe::summarize_seeds({}), cfma::ProbeError);
}
