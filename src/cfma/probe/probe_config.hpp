#pragma once
// [probe]: which feature sets and targets are probed, and how each probe is solved.
//
// Family probe (multinomial logistic regression with intercept), the objective minimised is
//   f(W, b) = (1/n) * [ sum_i -log softmax(W'x_i + b)_{y_i} + 0.5/C * ||W||_F^2 ]
// i.e. scikit-learn's LogisticRegression(multi_class="multinomial", solver="lbfgs", C) objective
// (sum of log-losses + 0.5/C ||W||^2, intercept unpenalised) divided by n so that `tol` does not
// depend on the number of rows. The solver stops when max_j |df/dtheta_j| <= tol.
// Pitch / velocity probes: least squares with unpenalised intercept on the raw targets,
//   min ||y - Xw - b||^2 + ridge * ||w||^2   (ridge = 0: OLS, as the paper's LinearRegression).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfma/core/config.hpp"

namespace cfma::probe {

struct ProbeConfig {
  // family (logistic), pitch and velocity (least squares), pitch_class (logistic over the MIDI
  // pitches of the train notes: with ~80 classes about 10x the family probe's cost, so opt-in)
  std::vector<std::string> targets = {"family", "pitch", "velocity"};
  bool control_tasks = true;     // also probe the control targets (control_task.hpp)
  std::uint64_t control_seed = 1;
  double C = 1.0;               // inverse L2 strength of the logistic probe (key C, or l2 = 1/C)
  double ridge = 0.0;           // L2 of the least-squares probes (0 = OLS)
  std::string scaler = "train"; // "train": both splits scaled with train statistics;
                                // "paper": test scaled with test statistics (reference Q11)
  double tol = 1e-6;            // L-BFGS: max-abs gradient of the mean objective
  int max_iter = 1000;          // L-BFGS iterations
  int lbfgs_memory = 10;        // correction pairs kept
  std::string line_search = "strong_wolfe";  // or "armijo" (backtracking, the earlier solver)
  // L-BFGS H0 from the columns' scales (lbfgs.hpp, logistic.cpp): 3x fewer iterations on a
  // synthetic conv1-like set, but more on the real conv1/pool1 sets, hence off
  bool precondition = false;
  // "auto" (newton in the row space, lbfgs on the primal path), "newton" (truncated
  // Newton-CG, newton_cg.hpp: converges in 15-20 iterations where L-BFGS runs to max_iter on
  // nearly separable sets, at about the same number of row passes), "lbfgs" (the solver above:
  // line_search, lbfgs_memory, precondition), or "paper_sgd": the paper's SGD probe (Q12, Q1;
  // paper_sgd.hpp) with the sgd_* settings, on the D columns (no row space). tol and max_iter
  // (Newton iterations for "newton") apply to both exact solvers.
  std::string logistic_solver = "auto";
  int sgd_epochs = 100;
  double sgd_learning_rate = 0.01;
  double sgd_momentum = 0.9;
  std::int64_t sgd_batch_size = 64;
  std::uint64_t sgd_seed = 1;
  bool double_softmax = true;
  // Q9 for reproduction runs: also score the regression probes on the last batch of each split
  // alone (the final, partial batch of sgd_batch_size rows in split order: 56 train / 24 test
  // notes at the paper's 35,000 / 15,000), metric "rmse_last_batch".
  bool last_batch_rmse = false;
  double cg_tol = 1e-10;        // CG (large D): ||residual|| <= cg_tol * ||X'y||, per target
  int cg_max_iter = 2000;
  std::int64_t cholesky_max_dim = 4096;  // D above this: CG on the normal equations, no D x D
  bool row_space = true;        // n_train < D: solve in the span of the train rows (row_space.hpp)
  // How the ranks share the work: "sets" (each set probed by one rank alone, the sets dealt out
  // largest first: results have the same bits on any number of ranks), or "rows" (every set by
  // all ranks, its rows split: for a set too large for one rank's memory; the sums then depend
  // on the rank count in their last bits).
  std::string distribute = "sets";
  std::int64_t chunk_rows = 2048;        // rows read (or visited) per chunk
  double memory_mb = 2048;      // per rank: keep its standardised rows in RAM when they fit
  int concat_top_k = 5;         // hand-crafted sets appended to conv3 (0 = no concat experiment)
  std::string concat_layer = "conv3";
  bool include_input = true;    // probe the 16,384-d network input (mel_db) too
  // Layers probed (and required) wherever a run's architecture has them; empty = every layer
  // the activations files hold. `cfma config check` checks them against extract.layers.
  std::vector<std::string> layers;
  std::vector<std::string> sets;  // optional filter: exact names, or prefixes ending in '*'
  std::uint64_t noise_seed = 20;  // the "Random" baseline (reference Q20 fix: seeded)
};

ProbeConfig parse_probe_config(const ConfigDoc& doc);
nlohmann::json to_json(const ProbeConfig& c);
// True when `target` is in probe.targets.
bool wants_target(const ProbeConfig& c, const std::string& target);
// True when `name` passes the `sets` filter (an empty filter passes everything).
bool set_selected(const ProbeConfig& c, const std::string& name);

}  // namespace cfma::probe
