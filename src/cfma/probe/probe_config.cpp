#include "cfma/probe/probe_config.hpp"

#include <algorithm>

#include "cfma/core/error.hpp"

namespace cfma::probe {

ProbeConfig parse_probe_config(const ConfigDoc& doc) {
  const auto s = doc.section("probe");
  ProbeConfig c;
  c.targets = s.get_string_list("targets", c.targets);
  for (std::size_t i = 0; i < c.targets.size(); ++i)
    if (c.targets[i] != "family" && c.targets[i] != "pitch" && c.targets[i] != "velocity" &&
        c.targets[i] != "pitch_class")
      s.fail_element("targets", i, "unknown target '" + c.targets[i] + "' (family, pitch, velocity, pitch_class)");
  if (c.targets.empty()) s.fail("targets", "empty list");
  s.check_unique("targets", c.targets);
  c.control_tasks = s.get_bool("control_tasks", c.control_tasks);
  c.control_seed = static_cast<std::uint64_t>(s.get_int("control_seed", static_cast<std::int64_t>(c.control_seed), at_least(0)));
  if (s.has("C") && s.has("l2")) s.fail("l2", "give either C or l2 (= 1/C), not both");
  c.C = s.get_double("C", c.C, greater_than(0));
  if (s.has("l2")) c.C = 1.0 / s.get_double("l2", 1.0, greater_than(0));
  c.ridge = s.get_double("ridge", c.ridge, at_least(0));
  c.scaler = s.get_choice("scaler", c.scaler, {"train", "paper"});
  c.tol = s.get_double("tol", c.tol, greater_than(0));
  c.max_iter = static_cast<int>(s.get_int("max_iter", c.max_iter, between(1, 1e7)));
  c.lbfgs_memory = static_cast<int>(s.get_int("lbfgs_memory", c.lbfgs_memory, between(1, 100)));
  c.line_search = s.get_choice("line_search", c.line_search, {"strong_wolfe", "armijo"});
  c.precondition = s.get_bool("precondition", c.precondition);
  c.logistic_solver = s.get_choice("logistic_solver", c.logistic_solver, {"auto", "newton", "lbfgs", "paper_sgd"});
  c.sgd_epochs = static_cast<int>(s.get_int("sgd_epochs", c.sgd_epochs, between(1, 1e6)));
  c.sgd_learning_rate = s.get_double("sgd_learning_rate", c.sgd_learning_rate, greater_than(0));
  c.sgd_momentum = s.get_double("sgd_momentum", c.sgd_momentum, between(0, 1));
  c.sgd_batch_size = s.get_int("sgd_batch_size", c.sgd_batch_size, between(1, 1e7));
  c.sgd_seed = static_cast<std::uint64_t>(s.get_int("sgd_seed", static_cast<std::int64_t>(c.sgd_seed), at_least(0)));
  c.double_softmax = s.get_bool("double_softmax", c.double_softmax);
  c.last_batch_rmse = s.get_bool("last_batch_rmse", c.last_batch_rmse);
  c.cg_tol = s.get_double("cg_tol", c.cg_tol, greater_than(0));
  c.cg_max_iter = static_cast<int>(s.get_int("cg_max_iter", c.cg_max_iter, between(1, 1e7)));
  c.cholesky_max_dim = s.get_int("cholesky_max_dim", c.cholesky_max_dim, between(0, 65536));
  c.row_space = s.get_bool("row_space", c.row_space);
  c.distribute = s.get_choice("distribute", c.distribute, {"sets", "rows"});
  c.chunk_rows = s.get_int("chunk_rows", c.chunk_rows, between(1, 1e8));
  c.memory_mb = s.get_double("memory_mb", c.memory_mb, at_least(0));
  c.concat_top_k = static_cast<int>(s.get_int("concat_top_k", c.concat_top_k, between(0, 100)));
  c.concat_layer = s.get_string("concat_layer", c.concat_layer);
  c.include_input = s.get_bool("include_input", c.include_input);
  c.layers = s.get_string_list("layers", c.layers);
  c.sets = s.get_string_list("sets", c.sets);
  c.noise_seed = static_cast<std::uint64_t>(s.get_int("noise_seed", static_cast<std::int64_t>(c.noise_seed), at_least(0)));
  return c;
}

nlohmann::json to_json(const ProbeConfig& c) {
  return {{"targets", c.targets},       {"control_tasks", c.control_tasks},
          {"control_seed", c.control_seed}, {"C", c.C},
          {"ridge", c.ridge},           {"scaler", c.scaler},
          {"tol", c.tol},               {"max_iter", c.max_iter},
          {"lbfgs_memory", c.lbfgs_memory}, {"line_search", c.line_search},
          {"precondition", c.precondition}, {"logistic_solver", c.logistic_solver},
          {"sgd_epochs", c.sgd_epochs}, {"sgd_learning_rate", c.sgd_learning_rate},
          {"sgd_momentum", c.sgd_momentum}, {"sgd_batch_size", c.sgd_batch_size},
          {"sgd_seed", c.sgd_seed}, {"double_softmax", c.double_softmax},
          {"last_batch_rmse", c.last_batch_rmse},
          {"cg_tol", c.cg_tol},
          {"cg_max_iter", c.cg_max_iter}, {"cholesky_max_dim", c.cholesky_max_dim},
          {"row_space", c.row_space}, {"distribute", c.distribute},
          {"chunk_rows", c.chunk_rows}, {"memory_mb", c.memory_mb},
          {"concat_top_k", c.concat_top_k}, {"concat_layer", c.concat_layer},
          {"include_input", c.include_input}, {"layers", c.layers},
          {"sets", c.sets},             {"noise_seed", c.noise_seed}};
}

bool wants_target(const ProbeConfig& c, const std::string& target) {
  return std::find(c.targets.begin(), c.targets.end(), target) != c.targets.end();
}

bool set_selected(const ProbeConfig& c, const std::string& name) {
  if (c.sets.empty()) return true;
  return std::any_of(c.sets.begin(), c.sets.end(), [&](const std::string& pattern) {
    if (!pattern.empty() && pattern.back() == '*')
      return name.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
    return name == pattern;
  });
}

}  // namespace cfma::probe
