#include "cfma/probe/probe_stage.hpp"

#include "cfma/probe/baselines.hpp"
#include "cfma/probe/seed_summary.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <mpi.h>
#include <spdlog/spdlog.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/text.hpp"
#include "cfma/par/world.hpp"
#include "cfma/par/stage_progress.hpp"
#include "cfma/store/feature_sets.hpp"
#include "cfma/store/h5.hpp"
#include "cfma/store/schema.hpp"

namespace cfma::probe {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  for (std::size_t begin = 0; begin <= text.size();) {
    const auto end = std::min(text.find(',', begin), text.size());
    if (end > begin) items.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return items;
}

}  // namespace

std::vector<std::string> probed_layers(const store::File& file, const ProbeConfig& config) {
  std::vector<std::string> present;
  for (const auto& set : store::activation_feature_sets(file.path()))
    present.push_back(set.name.substr(set.name.rfind('/') + 1));
  if (config.layers.empty()) return present;
  // Files written before extract recorded "arch_layers": every listed layer is required.
  const auto arch_layers = file.has_attr("arch_layers") ? split_list(file.attr_string("arch_layers")) : config.layers;
  std::vector<std::string> layers;
  for (const auto& layer : config.layers) {
    if (std::find(arch_layers.begin(), arch_layers.end(), layer) == arch_layers.end()) continue;
    if (std::find(present.begin(), present.end(), layer) == present.end())
      throw ProbeError(file.path().string() + ": missing layer '" + layer + "' (dataset " +
                       store::schema::layer(layer) + "; [probe] layers requires it: add it to extract.layers)");
    layers.push_back(layer);
  }
  return layers;
}

std::vector<ProbeSetInfo> probe_sets(const WorkPaths& paths, const ProbeConfig& config) {
  std::vector<ProbeSetInfo> sets;
  const std::string features_fp = store::features_key(paths.features());
  for (const auto& file_path : store::activation_files(paths)) {
    const auto file = store::File::open_serial(file_path);
    for (const char* attr : {"run", "arch", "task", "seed"})
      if (!file.has_attr(attr)) throw ProbeError(file_path.string() + ": missing root attribute '" + attr + "'");
    if (file.has_attr("features_key") && file.attr_string("features_key") != features_fp)
      throw ProbeError(file_path.string() + ": extracted from another " + paths.features().string() +
                       " (features_key differs; rows and splits may not match): re-run extract");
    ProbeSetInfo base;
    base.kind = "activation";
    base.run = file.attr_string("run");
    base.arch = file.attr_string("arch");
    base.task = file.attr_string("task");
    base.seed = file.attr_int("seed");
    const auto layers = probed_layers(file, config);
    if (layers.empty()) {
      spdlog::info("probe: {} skipped: architecture {} has none of probe.layers ({})", base.run, base.arch,
                   join(config.layers));
      continue;
    }
    for (auto& set : store::activation_feature_sets(file_path)) {
      ProbeSetInfo info = base;
      info.layer = set.name.substr(set.name.rfind('/') + 1);
      if (std::find(layers.begin(), layers.end(), info.layer) == layers.end()) continue;
      info.set = std::move(set);
      sets.push_back(std::move(info));
    }
  }
  for (auto& set : store::hand_feature_sets(paths.features(), config.noise_seed)) {
    ProbeSetInfo info;
    info.kind = "hand";
    info.set = std::move(set);
    sets.push_back(std::move(info));
  }
  if (config.include_input) {
    ProbeSetInfo info;
    info.kind = "input";
    info.set = store::input_feature_set(paths.features());
    sets.push_back(std::move(info));
  }
  std::erase_if(sets, [&](const ProbeSetInfo& s) { return !set_selected(config, s.set.name); });
  return sets;
}

StageKey probe_stage_key(const WorkPaths& paths, const ProbeConfig& config) {
  StageKey key{"probe", to_json(config)};
  key.inputs["features"] = output_fingerprint(paths.features());
  for (const auto& file : store::activation_files(paths))
    key.inputs["activations/" + file.filename().string()] = output_fingerprint(file);
  return key;
}

namespace {

SetProbe probe_logged(const boost::mpi::communicator& comm, const ProbeSetInfo& info, const ProbeLabels& labels,
                      const ProbeConfig& config, std::size_t index, std::size_t total, par::StageProgress* progress,
                      const std::string& unit_prefix) {
  // A unit of work: one probed set. Stop between units (every rank agrees); a set finished by
  // an earlier attempt of the same stage key is taken from the progress directory.
  if (par::stop_agreed(comm))
    throw Interrupted("probe: stopped by signal before " + info.set.name + " (" + std::to_string(index) + " of " +
                      std::to_string(total) + " sets done and kept)");
  const std::string unit = unit_prefix + info.set.name;
  if (progress)
    if (const auto done = progress->find(unit)) return set_probe_from_json(nlohmann::json::parse(*done));
  const auto start = std::chrono::steady_clock::now();
  auto result = probe_feature_set(comm, info.set, labels, config);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string summary;
  for (const auto& m : result.metrics)
    if (m.split == "test" && (m.metric == "accuracy" || m.metric == "rmse"))
      summary += " " + m.target + " " + m.metric + " " + std::to_string(m.value);
  if (comm.rank() == 0)
    spdlog::info("probe {}/{}: {} ({} columns) {:.1f} s:{}", index + 1, total, info.set.name,
                 info.set.columns(), seconds, summary);
  if (progress) progress->save(unit, to_json(result).dump());
  return result;
}


// Every set of `sets`, in order. distribute = "rows": one set after another on all ranks.
// "sets": dealt out in rounds, largest first (round r: the r-th P largest), each rank probing its
// set alone (MPI_COMM_SELF) exactly as a 1-rank job would; after each round every rank agrees
// on errors and stop signals, and the round's results go to every rank (rank 0 keeps them in
// the stage's progress directory).
std::vector<SetProbe> probe_sets_in_order(const boost::mpi::communicator& comm, const std::vector<ProbeSetInfo>& sets,
                                          const ProbeLabels& labels, const ProbeConfig& config,
                                          par::StageProgress* progress, const std::string& unit_prefix) {
  std::vector<SetProbe> results(sets.size());
  if (config.distribute == "rows" || comm.size() == 1) {
    for (std::size_t i = 0; i < sets.size(); ++i)
      results[i] = probe_logged(comm, sets[i], labels, config, i, sets.size(), progress, unit_prefix);
    return results;
  }
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < sets.size(); ++i) {
    if (progress)
      if (const auto done = progress->find(unit_prefix + sets[i].set.name)) {
        results[i] = set_probe_from_json(nlohmann::json::parse(*done));
        continue;
      }
    pending.push_back(i);
  }
  std::stable_sort(pending.begin(), pending.end(),
                   [&](std::size_t a, std::size_t b) { return sets[a].set.columns() > sets[b].set.columns(); });
  const boost::mpi::communicator self(MPI_COMM_SELF, boost::mpi::comm_attach);
  const auto ranks = static_cast<std::size_t>(comm.size());
  std::size_t finished = sets.size() - pending.size();
  for (std::size_t round = 0; round * ranks < pending.size(); ++round) {
    if (par::stop_agreed(comm))
      throw Interrupted("probe: stopped by signal (" + std::to_string(finished) + " of " + std::to_string(sets.size()) +
                        " sets done and kept)");
    const std::size_t slot = round * ranks + static_cast<std::size_t>(comm.rank());
    std::string mine, error;
    if (slot < pending.size()) {
      try {
        const auto i = pending[slot];
        mine = to_json(probe_logged(self, sets[i], labels, config, i, sets.size(), nullptr, unit_prefix)).dump();
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    try {
      par::check_all(comm, error);
    } catch (const Error& e) {
      throw ProbeError(e.what());
    }
    std::vector<std::string> round_results;
    boost::mpi::all_gather(comm, mine, round_results);
    for (std::size_t r = 0; r < ranks && round * ranks + r < pending.size(); ++r) {
      const auto i = pending[round * ranks + r];
      results[i] = set_probe_from_json(nlohmann::json::parse(round_results[r]));
      if (progress) progress->save(unit_prefix + sets[i].set.name, round_results[r]);
      ++finished;
    }
  }
  return results;
}

}  // namespace

std::vector<TransferRow> transfer_matrix(const ProbeTables& tables, const ProbeConfig& config) {
  // (arch, model_task, layer, target, split, metric) -> values over seeds
  std::map<std::vector<std::string>, std::vector<double>> groups;
  // Layers in probe.layers order, else in order of appearance (files list them forward).
  std::vector<std::string> layer_order = config.layers;
  for (std::size_t i = 0; i < tables.sets.size(); ++i) {
    const auto& info = tables.sets[i];
    if (info.kind != "activation") continue;
    if (std::find(layer_order.begin(), layer_order.end(), info.layer) == layer_order.end())
      layer_order.push_back(info.layer);
    for (const auto& m : tables.results[i].metrics)
      groups[{info.arch, info.task, info.layer, m.target, m.split, m.metric}].push_back(m.value);
  }
  auto layer_rank = [&](const std::string& layer) {
    return std::find(layer_order.begin(), layer_order.end(), layer) - layer_order.begin();
  };
  auto task_rank = [](const std::string& task) {
    const std::vector<std::string> order = {"family", "pitch", "velocity", "untrained"};
    return std::find(order.begin(), order.end(), task) - order.begin();
  };
  std::vector<TransferRow> rows;
  for (const auto& [k, values] : groups) {
    const auto s = summarize_seeds(values);
    rows.push_back({k[0], k[1], k[2], k[3], k[4], k[5], s.mean, s.sd, s.ci95_low, s.ci95_high, s.n});
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const TransferRow& a, const TransferRow& b) {
    return std::tuple(a.arch, task_rank(a.model_task), layer_rank(a.layer), a.target, a.split != "train", a.metric) <
           std::tuple(b.arch, task_rank(b.model_task), layer_rank(b.layer), b.target, b.split != "train", b.metric);
  });
  return rows;
}

std::vector<BaselineRow> baseline_rows(const ProbeTables& tables) {
  std::vector<BaselineRow> rows;
  for (const auto& m : tables.chance.metrics) rows.push_back({"chance", m.target, m.split, m.metric, m.value, 0});
  for (std::size_t i = 0; i < tables.sets.size(); ++i) {
    const auto& info = tables.sets[i];
    const bool noise = info.kind == "hand" && info.set.is_noise();
    if (!noise && info.kind != "input") continue;
    for (const auto& m : tables.results[i].metrics)
      rows.push_back({noise ? "noise" : "input", m.target, m.split, m.metric, m.value, 0});
  }
  for (const auto& t : tables.transfer)
    if (t.model_task == "untrained")
      rows.push_back({"untrained:" + t.arch + "/" + t.layer, t.target, t.split, t.metric, t.mean, t.seeds});
  return rows;
}

ProbeTables run_probes(const boost::mpi::communicator& comm, const WorkPaths& paths, const ProbeConfig& config,
                       par::StageProgress* progress) {
  const auto labels = load_probe_labels(paths.features());
  ProbeTables tables;
  tables.sets = probe_sets(paths, config);
  if (tables.sets.empty()) throw ProbeError("probe: no feature set selected (check [probe] sets)");
  tables.results = probe_sets_in_order(comm, tables.sets, labels, config, progress, "");
  tables.transfer = transfer_matrix(tables, config);
  tables.chance = chance_baselines(labels, config);
  tables.baselines = baseline_rows(tables);

  // Concatenation: hand-crafted sets (not the noise baseline) ranked by family test accuracy.
  const bool family = wants_target(config, "family");
  if (config.concat_top_k > 0 && family) {
    std::vector<std::pair<double, std::size_t>> ranked;
    for (std::size_t i = 0; i < tables.sets.size(); ++i)
      if (tables.sets[i].kind == "hand" && !tables.sets[i].set.is_noise())
        ranked.emplace_back(tables.results[i].value("family", "test", "accuracy"), i);
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    if (static_cast<int>(ranked.size()) > config.concat_top_k) ranked.resize(static_cast<std::size_t>(config.concat_top_k));
    for (const auto& [accuracy, i] : ranked) tables.concat_ranking.push_back(tables.sets[i].set.name);
    std::vector<std::size_t> bases;
    for (std::size_t i = 0; i < tables.sets.size(); ++i)
      if (tables.sets[i].kind == "activation" && tables.sets[i].layer == config.concat_layer) bases.push_back(i);
    for (const auto b : bases)
      for (const auto& [accuracy, h] : ranked) {
        // Standardisation is per column, so standardising the concatenation equals
        // standardising each block separately (as the original did).
        ProbeSetInfo info = tables.sets[b];
        info.kind = "concat";
        const auto& hand = tables.sets[h].set;
        info.set.name += "+" + hand.name;
        info.set.display_name += " + " + hand.display_name;
        info.set.blocks.insert(info.set.blocks.end(), hand.blocks.begin(), hand.blocks.end());
        tables.concat_added.push_back(hand.name);
        tables.concat_sets.push_back(std::move(info));
      }
    tables.concat_results = probe_sets_in_order(comm, tables.concat_sets, labels, config, progress, "concat:");
  } else if (config.concat_top_k > 0 && comm.rank() == 0) {
    spdlog::warn("probe: concatenation experiment skipped (it ranks sets by the family target, which is not probed)");
  }
  return tables;
}

namespace {

std::string number(double v) {
  std::ostringstream s;
  s << std::setprecision(10) << v;
  return s.str();
}

// One seed has no spread: an empty field (JSON: null), not "nan".
std::string spread(double v) { return std::isnan(v) ? std::string() : number(v); }

std::string seed_text(std::int64_t seed) { return seed < 0 ? "" : std::to_string(seed); }

nlohmann::json set_json(const ProbeSetInfo& info, const SetProbe& result) {
  nlohmann::json j = {{"set", info.set.name}, {"display_name", info.set.display_name}, {"kind", info.kind},
                      {"run", info.run}, {"arch", info.arch}, {"task", info.task}, {"layer", info.layer},
                      {"columns", info.set.columns()}, {"solver", result.solver},
                      {"metrics", to_json(result).at("metrics")}};
  j["seed"] = info.seed < 0 ? nlohmann::json(nullptr) : nlohmann::json(info.seed);
  return j;
}

}  // namespace

void write_probe_outputs(const WorkPaths& paths, const ProbeTables& tables, const ProbeConfig& config,
                         const StageKey& key) {
  fs::create_directories(paths.results());
  std::ostringstream probes, transfer, concat, baselines;
  baselines << "baseline,target,split,metric,value,seeds\n";
  for (const auto& b : tables.baselines)
    baselines << b.baseline << ',' << b.target << ',' << b.split << ',' << b.metric << ',' << number(b.value) << ','
              << b.seeds << '\n';
  probes << "set,run,arch,task,seed,layer,target,split,metric,value\n";
  for (std::size_t i = 0; i < tables.sets.size(); ++i) {
    const auto& s = tables.sets[i];
    for (const auto& m : tables.results[i].metrics)
      probes << s.set.name << ',' << s.run << ',' << s.arch << ',' << s.task << ',' << seed_text(s.seed) << ','
             << s.layer << ',' << m.target << ',' << m.split << ',' << m.metric << ',' << number(m.value) << '\n';
  }
  transfer << "arch,model_task,layer,target,split,metric,mean,sd,ci95_low,ci95_high,seeds\n";
  for (const auto& r : tables.transfer)
    transfer << r.arch << ',' << r.model_task << ',' << r.layer << ',' << r.target << ',' << r.split << ','
             << r.metric << ',' << number(r.mean) << ',' << spread(r.sd) << ','
             << spread(r.ci95_low) << ',' << spread(r.ci95_high) << ',' << r.seeds << '\n';
  concat << "run,arch,task,seed,layer,added_set,added_rank,target,split,metric,value\n";
  for (std::size_t i = 0; i < tables.concat_sets.size(); ++i) {
    const auto& s = tables.concat_sets[i];
    const auto rank = std::find(tables.concat_ranking.begin(), tables.concat_ranking.end(), tables.concat_added[i]) -
                      tables.concat_ranking.begin() + 1;
    for (const auto& m : tables.concat_results[i].metrics)
      concat << s.run << ',' << s.arch << ',' << s.task << ',' << seed_text(s.seed) << ',' << s.layer << ','
             << tables.concat_added[i] << ',' << rank << ',' << m.target << ',' << m.split << ',' << m.metric << ','
             << number(m.value) << '\n';
  }
  nlohmann::json j;
  j["config"] = to_json(config);
  j["sets"] = nlohmann::json::array();
  for (std::size_t i = 0; i < tables.sets.size(); ++i) j["sets"].push_back(set_json(tables.sets[i], tables.results[i]));
  j["transfer"] = nlohmann::json::array();
  for (const auto& r : tables.transfer)
    j["transfer"].push_back({{"arch", r.arch}, {"model_task", r.model_task}, {"layer", r.layer}, {"target", r.target},
                             {"split", r.split}, {"metric", r.metric}, {"mean", r.mean}, {"sd", r.sd},
                             {"ci95_low", r.ci95_low}, {"ci95_high", r.ci95_high}, {"seeds", r.seeds}});
  j["baselines"] = nlohmann::json::array();
  for (const auto& b : tables.baselines)
    j["baselines"].push_back({{"baseline", b.baseline}, {"target", b.target}, {"split", b.split},
                              {"metric", b.metric}, {"value", b.value}, {"seeds", b.seeds}});
  j["concat_ranking"] = tables.concat_ranking;
  j["concat"] = nlohmann::json::array();
  for (std::size_t i = 0; i < tables.concat_sets.size(); ++i) {
    auto entry = set_json(tables.concat_sets[i], tables.concat_results[i]);
    entry["added_set"] = tables.concat_added[i];
    j["concat"].push_back(std::move(entry));
  }
  write_file_atomic(paths.results() / "transfer.csv", transfer.str());
  write_file_atomic(paths.results() / "baselines.csv", baselines.str());
  write_file_atomic(paths.results() / "concat.csv", concat.str());
  write_file_atomic(paths.results() / "probes.json", j.dump(1));
  write_file_atomic(paths.results() / "probes.csv", probes.str());
  write_manifest(paths.results() / "probes.csv", key,
                 {{"sets", tables.sets.size()}, {"concat_sets", tables.concat_sets.size()}});
}

bool run_probe_stage(const boost::mpi::communicator& comm, const WorkPaths& paths, const ProbeConfig& config,
                     bool force) {
  const auto output = paths.results() / "probes.csv";
  std::string error;
  int up_to_date = 0;
  StageKey key;
  try {
    key = probe_stage_key(paths, config);
    up_to_date = comm.rank() == 0 && !force && is_up_to_date(output, key) ? 1 : 0;
  } catch (const std::exception& e) {
    error = e.what();
  }
  par::check_all(comm, error);
  boost::mpi::broadcast(comm, up_to_date, 0);
  if (up_to_date) {
    if (comm.rank() == 0) spdlog::info("probe: {} up to date, skipped", output.string());
    return false;
  }
  par::StageProgress progress(comm, paths.results() / "probes.csv.partial", key.hash());
  if (progress.completed() > 0 && comm.rank() == 0)
    spdlog::info("probe: resuming, {} sets done by an earlier attempt", progress.completed());
  const auto tables = run_probes(comm, paths, config, &progress);
  if (comm.rank() == 0) {
    try {
      write_probe_outputs(paths, tables, config, key);
      progress.remove();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  par::check_all(comm, error);
  return true;
}

}  // namespace cfma::probe
