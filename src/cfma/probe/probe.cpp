#include "cfma/probe/probe.hpp"

#include <algorithm>
#include <optional>

#include "cfma/core/error.hpp"
#include "cfma/par/test_fault.hpp"
#include "cfma/par/world.hpp"
#include "cfma/probe/control_task.hpp"
#include "cfma/probe/least_squares.hpp"
#include "cfma/probe/local_rows.hpp"
#include "cfma/probe/logistic.hpp"
#include "cfma/probe/paper_sgd.hpp"
#include "cfma/probe/row_space.hpp"
#include "cfma/store/h5.hpp"
#include "cfma/store/schema.hpp"

namespace cfma::probe {

ProbeLabels load_probe_labels(const std::filesystem::path& features_h5) {
  if (!std::filesystem::exists(features_h5))
    throw ProbeError(features_h5.string() + ": features file not found (run preprocess first)");
  const auto file = store::File::open_serial(features_h5);
  ProbeLabels labels;
  labels.file = features_h5;
  for (const auto& name : {store::schema::label("family"), store::schema::label("pitch"),
                           store::schema::label("velocity"), std::string(store::schema::split_train),
                           std::string(store::schema::split_test)})
    if (!file.exists(name)) throw ProbeError(features_h5.string() + ": missing dataset '" + name + "'");
  const auto family = file.read_all<std::int32_t>(store::schema::label("family"));
  labels.family.assign(family.begin(), family.end());
  labels.rows = static_cast<std::int64_t>(labels.family.size());
  for (const auto& [name, out] : {std::pair{"pitch", &labels.pitch}, std::pair{"velocity", &labels.velocity}}) {
    const auto v = file.read_all<std::int32_t>(store::schema::label(name));
    if (static_cast<std::int64_t>(v.size()) != labels.rows)
      throw ProbeError(features_h5.string() + ": /labels/" + name + " has " + std::to_string(v.size()) +
                       " rows, /labels/family " + std::to_string(labels.rows));
    out->assign(v.begin(), v.end());
  }
  if (file.exists(store::schema::label("instrument"))) {
    const auto v = file.read_all<std::int32_t>(store::schema::label("instrument"));
    if (static_cast<std::int64_t>(v.size()) != labels.rows)
      throw ProbeError(features_h5.string() + ": /labels/instrument has " + std::to_string(v.size()) +
                       " rows, /labels/family " + std::to_string(labels.rows));
    labels.instrument.assign(v.begin(), v.end());
  }
  labels.train = file.read_all<std::int64_t>(store::schema::split_train);
  labels.test = file.read_all<std::int64_t>(store::schema::split_test);
  for (const int y : labels.family) {
    if (y < 0) throw ProbeError(features_h5.string() + ": negative family label " + std::to_string(y));
    labels.classes = std::max(labels.classes, y + 1);
  }
  check_splits(labels);
  return labels;
}

void check_splits(const ProbeLabels& labels) {
  std::vector<char> seen(static_cast<std::size_t>(labels.rows), 0);
  for (const auto& [name, rows] : {std::pair{"train", &labels.train}, std::pair{"test", &labels.test}}) {
    if (rows->empty()) throw ProbeError(labels.file.string() + ": /split/" + name + " is empty");
    for (const auto r : *rows) {
      if (r < 0 || r >= labels.rows)
        throw ProbeError(labels.file.string() + ": /split/" + name + " has row " + std::to_string(r) +
                         " outside [0, " + std::to_string(labels.rows) + ")");
      if (seen[static_cast<std::size_t>(r)]++)
        throw ProbeError(labels.file.string() + ": row " + std::to_string(r) + " appears twice in /split (" + name + ")");
    }
  }
}

double SetProbe::value(const std::string& target, const std::string& split, const std::string& metric) const {
  for (const auto& m : metrics)
    if (m.target == target && m.split == split && m.metric == metric) return m.value;
  throw ProbeError("no probe result for " + target + "/" + split + "/" + metric);
}

nlohmann::json to_json(const SetProbe& result) {
  nlohmann::json metrics = nlohmann::json::array();
  for (const auto& m : result.metrics)
    metrics.push_back({{"target", m.target}, {"split", m.split}, {"metric", m.metric}, {"value", m.value}});
  return {{"metrics", metrics}, {"solver", result.solver}};
}

SetProbe set_probe_from_json(const nlohmann::json& j) {
  SetProbe result;
  for (const auto& m : j.at("metrics"))
    result.metrics.push_back({m.at("target").get<std::string>(), m.at("split").get<std::string>(),
                              m.at("metric").get<std::string>(), m.at("value").get<double>()});
  result.solver = j.at("solver");
  return result;
}

ClassLabels class_labels(const std::vector<int>& values, const std::vector<std::int64_t>& train_rows,
                         const std::vector<std::int64_t>& test_rows, const std::vector<std::int64_t>& all_train) {
  ClassLabels out;
  for (const auto r : all_train) out.classes.push_back(values[static_cast<std::size_t>(r)]);
  std::sort(out.classes.begin(), out.classes.end());
  out.classes.erase(std::unique(out.classes.begin(), out.classes.end()), out.classes.end());
  auto index = [&](std::int64_t row) {
    const int v = values[static_cast<std::size_t>(row)];
    const auto it = std::lower_bound(out.classes.begin(), out.classes.end(), v);
    return it != out.classes.end() && *it == v ? static_cast<int>(it - out.classes.begin()) : kUnseenClass;
  };
  for (const auto r : train_rows) out.train.push_back(index(r));
  for (const auto r : test_rows) out.test.push_back(index(r));
  return out;
}

std::vector<std::int64_t> local_block(const std::vector<std::int64_t>& split_rows, int rank, int size) {
  const auto block = par::block_of(static_cast<std::int64_t>(split_rows.size()), rank, size);
  std::vector<std::int64_t> rows(split_rows.begin() + block.begin, split_rows.begin() + block.end);
  std::sort(rows.begin(), rows.end());
  return rows;
}

namespace {

nlohmann::json to_json(const LbfgsResult& r) {
  return {{"solver", "lbfgs"}, {"iterations", r.iterations}, {"evaluations", r.evaluations},
          {"objective", r.objective}, {"grad_max", r.grad_max}, {"converged", r.converged},
          {"stop", r.stop_reason}};
}

}  // namespace

SetProbe probe_feature_set(const boost::mpi::communicator& comm, const store::FeatureSet& set,
                           const ProbeLabels& labels, const ProbeConfig& config) {
  if (set.rows != labels.rows) {
    const std::string where = set.blocks.empty() ? std::string("noise") : set.blocks.front().file.string();
    throw ProbeError("feature set '" + set.name + "' (" + where + ") has " + std::to_string(set.rows) +
                     " rows but " + labels.file.string() + " has " + std::to_string(labels.rows) +
                     " labelled rows: activations and features do not match");
  }
  const auto train_rows = local_block(labels.train, comm.rank(), comm.size());
  const auto test_rows = local_block(labels.test, comm.rank(), comm.size());
  SetProbe result;
  result.solver["columns"] = set.columns();
  // Fewer training rows than columns: solve in the row space of the train rows (same optimum,
  // same predictions; row_space.hpp). Otherwise the primal path over the D columns.
  std::optional<RowSpace> reduced;
  std::optional<LocalRows> primal_train, primal_test;
  const bool paper_sgd = config.logistic_solver == "paper_sgd";
  if (paper_sgd && !std::is_sorted(labels.train.begin(), labels.train.end()))
    throw ProbeError(labels.file.string() + ": /split/train is not ascending; the paper-mode SGD probe batches the "
                     "train rows in file order");
  if (config.row_space && !paper_sgd && static_cast<std::int64_t>(labels.train.size()) < set.columns()) {
    reduced.emplace(reduce_to_row_space(comm, set, labels.train, labels.test, train_rows, test_rows, config));
    result.solver["row_space_rank"] = reduced->rank;
  } else {
    const double bytes = static_cast<double>(train_rows.size() + test_rows.size()) *
                         static_cast<double>(set.columns()) * sizeof(double);
    // Every rank must agree on the mode only for performance; results do not depend on it.
    const bool in_memory = bytes <= config.memory_mb * 1024.0 * 1024.0;
    par::all_or_none(comm, [&] {  // in memory, the rows are read here: on each rank separately
      primal_train.emplace(set, train_rows, config.chunk_rows, in_memory);
      primal_test.emplace(set, test_rows, config.chunk_rows, in_memory);
      par::test_fault_point("probe");
    });
    const ColumnStats train_stats = column_stats(comm, *primal_train);
    const ColumnStats test_stats = column_stats(comm, *primal_test);  // also validates the test rows
    primal_train->standardise(train_stats.mean, train_stats.inv_scale());
    if (config.scaler == "paper")
      primal_test->standardise(test_stats.mean, test_stats.inv_scale());
    else
      primal_test->standardise(train_stats.mean, train_stats.inv_scale());
    result.solver["in_memory"] = in_memory;
  }
  LocalRows& train = reduced ? reduced->train : *primal_train;
  LocalRows& test = reduced ? reduced->test : *primal_test;
  // Labels pair with the local rows in their order (the row space keeps train in pivot order).
  const std::vector<std::int64_t>& train_order = train.row_ids();

  auto wants = [&](const char* t) { return wants_target(config, t); };
  std::optional<ControlTargets> control;
  if (config.control_tasks)
    control = control_targets(labels.family, labels.classes, labels.instrument, labels.pitch, config.control_seed);
  auto as_ints = [](const std::vector<double>& v) { return std::vector<int>(v.begin(), v.end()); };

  // Classification targets: (name, per-row labels).
  std::vector<std::pair<std::string, std::vector<int>>> classification;
  if (wants("family")) {
    classification.emplace_back("family", labels.family);
    if (control && !control->family.empty()) classification.emplace_back("family_control", control->family);
  }
  if (wants("pitch_class")) {
    classification.emplace_back("pitch_class", as_ints(labels.pitch));
    if (control) classification.emplace_back("pitch_class_control", as_ints(control->pitch));
  }
  if (control && wants("family") && control->family.empty())
    result.solver["family_control"] = labels.file.string() + " has no /labels/instrument: no family control task";
  LbfgsOptions options;
  options.tol = config.tol;
  options.max_iter = config.max_iter;
  options.memory = config.lbfgs_memory;
  options.line_search = parse_line_search(config.line_search);
  // "auto": Newton-CG in the row space (it converges where L-BFGS runs to max_iter, at the
  // same cost), L-BFGS on the primal path (35,000 x 480: 0.46 s against Newton's 0.76 s).
  const bool newton = config.logistic_solver == "newton" || (config.logistic_solver == "auto" && reduced);
  const std::string solver_name = paper_sgd ? "paper_sgd" : newton ? "newton" : "lbfgs";
  for (const auto& [name, values] : classification) {
    const auto y = class_labels(values, train_order, test_rows, labels.train);
    LogisticModel model;
    if (paper_sgd) {
      const PaperSgdOptions sgd{config.sgd_epochs, config.sgd_learning_rate, config.sgd_momentum,
                                config.sgd_batch_size, config.sgd_seed, config.double_softmax};
      const auto first = par::block_of(static_cast<std::int64_t>(labels.train.size()), comm.rank(), comm.size()).begin;
      auto fitted = fit_logistic_paper_sgd(comm, train, first, static_cast<std::int64_t>(labels.train.size()), y.train,
                                           static_cast<int>(y.classes.size()), sgd);
      result.metrics.push_back({name, "train", "running_accuracy", fitted.running_train_accuracy});
      model = std::move(fitted.model);
    } else {
      model = fit_logistic(comm, train, y.train, static_cast<int>(y.classes.size()), config.C, options,
                           config.precondition,
                           newton ? LogisticSolver::newton_cg : LogisticSolver::lbfgs);
    }
    for (const auto& [split, rows, yy] : {std::tuple{"train", &train, &y.train}, std::tuple{"test", &test, &y.test}}) {
      const auto m = evaluate_logistic(comm, *rows, *yy, model);
      result.metrics.push_back({name, split, "accuracy", m.accuracy});
      result.metrics.push_back({name, split, "log_loss", m.log_loss});
    }
    result.solver[name] = to_json(model.solver);
    result.solver[name]["solver"] = solver_name;
    result.solver[name]["classes"] = y.classes.size();
  }

  // Regression targets, solved together (one factorisation of the normal equations).
  std::vector<std::pair<std::string, const std::vector<double>*>> regression;
  if (wants("pitch")) regression.emplace_back("pitch", &labels.pitch);
  if (wants("velocity")) regression.emplace_back("velocity", &labels.velocity);
  if (control && wants("pitch")) regression.emplace_back("pitch_control", &control->pitch);
  if (!regression.empty()) {
    auto pick = [&](const std::vector<std::int64_t>& rows) {
      Eigen::MatrixXd y(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(regression.size()));
      for (std::size_t i = 0; i < rows.size(); ++i)
        for (std::size_t j = 0; j < regression.size(); ++j)
          y(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = (*regression[j].second)[static_cast<std::size_t>(rows[i])];
      return y;
    };
    const Eigen::MatrixXd y_train = pick(train_order), y_test = pick(test_rows);
    const LeastSquaresOptions ls_options{config.ridge, config.cholesky_max_dim, config.cg_tol, config.cg_max_iter};
    const auto model = fit_least_squares(comm, train, y_train, ls_options);
    for (const auto& [split, rows, y] : {std::tuple{"train", &train, &y_train}, std::tuple{"test", &test, &y_test}}) {
      const auto m = evaluate_linear(comm, *rows, *y, model);
      for (std::size_t j = 0; j < regression.size(); ++j) {
        result.metrics.push_back({regression[j].first, split, "rmse", m.rmse[static_cast<Eigen::Index>(j)]});
        result.metrics.push_back({regression[j].first, split, "r2", m.r2[static_cast<Eigen::Index>(j)]});
      }
    }
    if (config.last_batch_rmse) {
      // The last batch of each split list (its rows in list order), as 0/1 over the local rows.
      auto last_batch = [&](const std::vector<std::int64_t>& list, const std::vector<std::int64_t>& local) {
        const auto n = static_cast<std::int64_t>(list.size());
        const std::int64_t start = n > 0 ? ((n - 1) / config.sgd_batch_size) * config.sgd_batch_size : 0;
        std::vector<std::int64_t> ids(list.begin() + start, list.end());
        std::sort(ids.begin(), ids.end());
        std::vector<char> kept(local.size());
        for (std::size_t i = 0; i < local.size(); ++i) kept[i] = std::binary_search(ids.begin(), ids.end(), local[i]);
        return kept;
      };
      for (const auto& [split, rows, y, list, local] :
           {std::tuple{"train", &train, &y_train, &labels.train, &train_order},
            std::tuple{"test", &test, &y_test, &labels.test, &test_rows}}) {
        const auto m = evaluate_linear(comm, *rows, *y, model, last_batch(*list, *local));
        for (std::size_t j = 0; j < regression.size(); ++j)
          result.metrics.push_back({regression[j].first, split, "rmse_last_batch", m.rmse[static_cast<Eigen::Index>(j)]});
      }
    }
    for (const auto& [name, values] : regression)
      result.solver[name] = {{"solver", model.solver}, {"iterations", model.iterations},
                             {"converged", model.converged}, {"jitter", model.jitter},
                             {"rank", model.rank}};
  }
  // Selectivity (Hewitt and Liang): task score - control score, accuracy for classification
  // and R^2 for regression, on each split.
  for (const auto& [task, metric] : {std::pair{"family", "accuracy"}, std::pair{"pitch_class", "accuracy"},
                                     std::pair{"pitch", "r2"}}) {
    const std::string control_name = std::string(task) + "_control";
    for (const char* split : {"train", "test"}) {
      const ProbeMetric* task_metric = nullptr;
      const ProbeMetric* control_metric = nullptr;
      for (const auto& m : result.metrics) {
        if (m.split != split || m.metric != metric) continue;
        if (m.target == task) task_metric = &m;
        if (m.target == control_name) control_metric = &m;
      }
      if (task_metric && control_metric)
        result.metrics.push_back({std::string(task) + "_selectivity", split, metric,
                                  task_metric->value - control_metric->value});
    }
  }
  return result;
}

}  // namespace cfma::probe
