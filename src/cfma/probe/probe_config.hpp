#pragma once
// [probe]: which feature sets and targets are probed, and how each probe is solved.
//
// Family probe (multinomial logistic regression with intercept), the objective minimised is
//   f(W, b) = (1/n) * [ sum_i -log softmax(W'x_i + b)_{y_i} + 0.5/C * ||W||_F^2 ]
// i.e. scikit-learn's LogisticRegression(multi_class="multinomial", solver="lbfgs", C) objective
// (sum of log-losses + 0.5/C ||W||^2, intercept unpenalised) divided by n so that `tol` does not
// depend on the number of rows. L-BFGS stops when max_j |df/dtheta_j| <= tol.
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
  // pitches of the train notes)
  std::vector<std::string> targets = {"family", "pitch", "velocity", "pitch_class"};
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
  bool precondition = true;     // L-BFGS H0 from the columns' scales (lbfgs.hpp, logistic.cpp)
  double cg_tol = 1e-10;        // CG (large D): ||residual|| <= cg_tol * ||X'y||, per target
  int cg_max_iter = 2000;
  std::int64_t cholesky_max_dim = 4096;  // D above this: CG on the normal equations, no D x D
  bool row_space = true;        // n_train < D: solve in the span of the train rows (row_space.hpp)
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
// True when `name` passes the `sets` filter (an empty filter passes everything).
bool set_selected(const ProbeConfig& c, const std::string& name);

}  // namespace cfma::probe
