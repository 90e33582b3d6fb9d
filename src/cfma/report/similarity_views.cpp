#include "cfma/report/similarity_views.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "cfma/core/error.hpp"
#include "cfma/store/h5.hpp"

namespace cfma::report {
namespace fs = std::filesystem;

const std::vector<std::string>& paper_top5_sets() {
  static const std::vector<std::string> sets = {"hand/mean_power", "hand/time_to_70db", "hand/wavelet_mean_25",
                                                "group/wavelets_combined_25", "group/top_combined", "noise"};
  return sets;
}

double SimilarityTable::value(const std::string& a, const std::string& b) const {
  auto it = values.find({a, b});
  if (it == values.end()) it = values.find({b, a});
  return it == values.end() ? NAN : it->second;
}

bool SimilarityTable::is_minibatch(const std::string& a, const std::string& b) const {
  auto it = minibatch.find({a, b});
  if (it == minibatch.end()) it = minibatch.find({b, a});
  return it != minibatch.end() && it->second;
}

LayerSet parse_layer_set(const std::string& set) {
  LayerSet s;
  const auto slash = set.find('/');
  if (slash == std::string::npos || set.rfind("hand/", 0) == 0 || set.rfind("group/", 0) == 0) return s;
  const auto run = set.substr(0, slash);
  const auto seed = run.rfind("-s"), task = run.rfind('-', seed == std::string::npos ? 0 : seed - 1);
  if (seed == std::string::npos || task == std::string::npos || task == 0) return s;
  s.ok = true;
  s.arch = run.substr(0, task);
  s.task = run.substr(task + 1, seed - task - 1);
  s.seed = run.substr(seed + 2);
  s.layer = set.substr(slash + 1);
  return s;
}

namespace {

std::string interval_note(const std::string& lo, const std::string& hi, const std::string& p,
                          const std::string& null_sd) {
  std::string note;
  char buf[96];
  if (const auto l = to_number(lo), h = to_number(hi); l && h) {
    std::snprintf(buf, sizeof buf, "95%% CI [%.4f, %.4f]", *l, *h);
    note = buf;
  }
  if (const auto v = to_number(p)) {
    std::snprintf(buf, sizeof buf, "%sp = %.4g", note.empty() ? "" : ", ", *v);
    note += buf;
  }
  if (const auto v = to_number(null_sd)) {
    std::snprintf(buf, sizeof buf, "%spermutation null sd %.4f", note.empty() ? "" : ", ", *v);
    note += buf;
  }
  return note;
}

// similarity.h5's /<split>/path (1 = minibatch CKA) by set-name pair.
void read_paths(const fs::path& h5, std::vector<SimilarityTable>& tables) {
  if (!fs::exists(h5)) return;
  const auto file = store::File::open_serial(h5);
  const auto names = file.read_strings("/set_names");
  for (auto& t : tables) {
    const std::string dataset = "/" + t.split + "/path";
    if (!file.exists(dataset)) continue;
    const auto path = file.read_all<std::int32_t>(dataset);
    const auto n = names.size();
    if (path.size() != n * n) continue;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        if (path[i * n + j] == 1) t.minibatch[{names[i], names[j]}] = true;
  }
}

// A heat map's cells as a table (row label, then one column per column label), for replotting.
Table heatmap_table(const Heatmap& h) {
  Table t{{"set"}, {}};
  t.header.insert(t.header.end(), h.col_labels.begin(), h.col_labels.end());
  for (std::size_t r = 0; r < h.row_labels.size(); ++r) {
    std::vector<std::string> row{h.row_labels[r]};
    for (std::size_t c = 0; c < h.col_labels.size(); ++c) {
      const double v = h.values[r * h.col_labels.size() + c];
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.10g", v);
      row.push_back(std::isfinite(v) ? buf : "");
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string add_heatmap(FigureWriter& w, const std::string& stem, const Heatmap& h) {
  return w.add_with_data(stem, heatmap_svg(h), heatmap_table(h));
}

// One line on what a measure's cells mean (row set X, column set Y).
std::string measure_description(const std::string& measure) {
  static const std::map<std::string, std::string> about = {
      {"linear_cka", "Linear CKA (Kornblith et al. 2019): 1 = the same up to rotation and scale, symmetric."},
      {"debiased_cka", "Debiased linear CKA (unbiased HSIC): near 0 for unrelated sets at any n, symmetric."},
      {"minibatch_cka", "Minibatch CKA (Nguyen et al. 2021): unbiased HSIC summed over minibatches of rows."},
      {"cca_r2", "CCA R^2 as the paper wrote it: squared canonical correlations summed over the row set's width."},
      {"cca_r2_mean", "Mean squared canonical correlation over min(rank X, rank Y)."},
      {"lr_r2", "Linear-regression R^2: the share of the row set's variance least squares on the column set explains."},
      {"procrustes", "Orthogonal Procrustes distance (anatome): 0 = equal up to rotation and scale, 1 = orthogonal."},
      {"svcca", "SVCCA (Raghu et al. 2017): mean canonical correlation of the sets' top singular directions."},
      {"pwcca", "PWCCA (Morcos et al. 2018): canonical correlations weighted by how much of the set they account for."},
      {"linear_cka_calibrated",
       "Linear CKA minus the mean of its permutation null (the rows of one set in every order, exact): about 0 for "
       "unrelated sets; hover a cell for the null's sd."},
  };
  const auto it = about.find(measure);
  return it == about.end() ? std::string() : it->second;
}

bool hand_crafted(const std::string& s) {
  return s.rfind("hand/", 0) == 0 || s.rfind("group/", 0) == 0 || s == "noise" || s == "input";
}

}  // namespace

std::vector<SimilarityTable> read_similarity(const WorkPaths& paths) {
  std::vector<SimilarityTable> tables;
  const auto path = paths.results() / "similarity.csv";
  if (!fs::exists(path)) return tables;
  const auto t = read_csv(path);
  const int c_split = t.column("split"), c_measure = t.column("measure"), c_a = t.column("set_a"),
            c_b = t.column("set_b"), c_value = t.column("value");
  if (std::min({c_split, c_measure, c_a, c_b, c_value}) < 0)
    throw ReportError(path.string() + ": expected columns split, measure, set_a, set_b, value");
  const int c_lo = t.column("ci_low"), c_hi = t.column("ci_high"), c_p = t.column("p_value"),
            c_sd = t.column("null_sd");  // absent in files written before linear_cka_calibrated
  auto at = [](const std::vector<std::string>& row, int c) {
    return c >= 0 && static_cast<std::size_t>(c) < row.size() ? row[static_cast<std::size_t>(c)] : std::string();
  };
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  for (const auto& row : t.rows) {
    const auto key = std::make_pair(at(row, c_split), at(row, c_measure));
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, tables.size()).first;
      tables.push_back({key.first, key.second, {}, {}, {}, {}});
    }
    auto& table = tables[it->second];
    const auto a = at(row, c_a), b = at(row, c_b);
    table.values[{a, b}] = to_number(at(row, c_value)).value_or(NAN);
    if (const auto note = interval_note(at(row, c_lo), at(row, c_hi), at(row, c_p), at(row, c_sd)); !note.empty()) table.notes[{a, b}] = note;
    for (const auto* s : {&a, &b})
      if (std::find(table.sets.begin(), table.sets.end(), *s) == table.sets.end()) table.sets.push_back(*s);
  }
  read_paths(paths.results() / "similarity.h5", tables);
  return tables;
}

Heatmap similarity_heatmap(const SimilarityTable& t, const std::string& title, const std::vector<std::string>& rows,
                           const std::vector<std::string>& cols, bool annotate) {
  Heatmap h;
  h.title = title;
  h.row_labels = rows;
  h.col_labels = cols;
  h.annotate = annotate;
  h.mark_legend = "minibatch CKA (set wider than similarity.max_feature_space_dim)";
  for (const auto& r : rows)
    for (const auto& c : cols) {
      h.values.push_back(t.value(r, c));
      auto note = t.notes.find({r, c});
      if (note == t.notes.end()) note = t.notes.find({c, r});
      h.notes.push_back(note == t.notes.end() ? "" : note->second);
      h.marked.push_back(t.is_minibatch(r, c));
    }
  // Similarities lie in [0, 1]; a permutation-calibrated CKA can be below 0.
  for (const double v : h.values)
    if (std::isfinite(v)) h.vmin = std::min(h.vmin, std::floor(v * 10) / 10);
  return h;
}

Heatmap arch_by_arch(const SimilarityTable& t, const std::string& task, const std::string& layer) {
  std::vector<std::string> archs;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> sets_of;  // arch -> (seed, set)
  for (const auto& s : t.sets) {
    const auto p = parse_layer_set(s);
    if (!p.ok || p.task != task || p.layer != layer) continue;
    if (!sets_of.count(p.arch)) archs.push_back(p.arch);
    sets_of[p.arch].emplace_back(p.seed, s);
  }
  Heatmap h;
  h.title = t.measure + " (" + t.split + "), " + layer + " of the " + task + " runs: architecture x architecture, mean over seeds";
  h.row_labels = h.col_labels = archs;
  h.mark_legend = "includes minibatch CKA cells";
  for (const auto& a : archs)
    for (const auto& b : archs) {
      double same_sum = 0, all_sum = 0;
      int same = 0, all = 0;
      bool minibatch = false;
      for (const auto& [seed_a, set_a] : sets_of[a])
        for (const auto& [seed_b, set_b] : sets_of[b]) {
          if (a == b && set_a != set_b) continue;  // the diagonal: a set against itself
          const double v = t.value(set_a, set_b);
          if (!std::isfinite(v)) continue;
          minibatch = minibatch || t.is_minibatch(set_a, set_b);
          all_sum += v, ++all;
          if (seed_a == seed_b) same_sum += v, ++same;
        }
      h.values.push_back(same > 0 ? same_sum / same : all > 0 ? all_sum / all : NAN);
      h.notes.push_back(same > 0 ? "mean of " + std::to_string(same) + " same-seed pairs"
                                 : "mean of " + std::to_string(all) + " pairs (no seed shared)");
      h.marked.push_back(minibatch);
    }
  return h;
}

std::string similarity_section(const WorkPaths& paths, const ReportConfig& config, FigureWriter& w) {
  std::string h = "<h2>Similarity</h2>\n";
  const auto tables = read_similarity(paths);
  if (tables.empty()) return h + "<p>No similarity results (similarity did not run).</p>\n";
  h += "<p>Every value, with its interval and p-value when computed, is in <a href=\"../results/similarity.csv\">"
       "results/similarity.csv</a>; hover a cell for its exact value. A corner mark: computed by minibatch CKA.</p>\n";
  const std::string primary = [&] {
    for (const char* m : {"linear_cka", "debiased_cka", "minibatch_cka"})
      for (const auto& t : tables)
        if (t.measure == m) return std::string(m);
    return std::string();
  }();
  auto fits = [&](std::size_t rows, std::size_t cols) {
    return static_cast<std::int64_t>(rows * cols) <= config.max_heatmap_cells;
  };
  auto too_big = [&](const std::string& title, std::size_t rows, std::size_t cols) {
    return "<p>" + escape_xml(title) + ": " + std::to_string(rows) + " x " + std::to_string(cols) +
           " sets is more than report.max_heatmap_cells (" + std::to_string(config.max_heatmap_cells) +
           ") for one figure; every value is in results/similarity.csv.</p>\n";
  };
  for (const auto& t : tables) {
    const std::string key = t.split + "_" + t.measure;
    h += "<h3>" + escape_xml(t.measure + " (" + t.split + ")") + "</h3>\n";
    if (const auto about = measure_description(t.measure); !about.empty()) h += "<p>" + escape_xml(about) + "</p>\n";
    std::vector<std::string> layers, hand, trained, untrained;
    for (const auto& s : t.sets) {
      if (hand_crafted(s)) {
        hand.push_back(s);
        continue;
      }
      layers.push_back(s);
      (parse_layer_set(s).task == "untrained" ? untrained : trained).push_back(s);
    }
    if (layers.empty()) layers = t.sets;
    const bool annotate_all = static_cast<int>(t.sets.size()) <= config.max_annotated_cells;
    const std::string all_title = t.measure + " (" + t.split + "): network layers x every set";
    if (fits(layers.size(), t.sets.size()))
      h += add_heatmap(w, "similarity_" + key, similarity_heatmap(t, all_title, layers, t.sets, annotate_all));
    else
      h += too_big(all_title, layers.size(), t.sets.size());
    if (!hand.empty() && hand.size() < t.sets.size()) {
      const std::string title = t.measure + " (" + t.split + "): network layers x hand-crafted sets";
      if (fits(layers.size(), hand.size()))
        h += add_heatmap(w, "similarity_hand_" + key, similarity_heatmap(t, title, layers, hand, static_cast<int>(hand.size()) <= config.max_annotated_cells));
      else
        h += too_big(title, layers.size(), hand.size());
    }
    std::vector<std::string> top5;
    for (const auto& c : paper_top5_sets())
      if (std::find(t.sets.begin(), t.sets.end(), c) != t.sets.end()) top5.push_back(c);
    if (!top5.empty() && top5.size() < t.sets.size() && fits(layers.size(), top5.size()))
      h += add_heatmap(w, "similarity_top5_" + key, similarity_heatmap(t, t.measure + " (" + t.split + "): layers x the paper's top-5 hand-crafted sets",
                                                layers, top5, true));
    if (t.measure != primary) continue;
    if (!trained.empty() && !untrained.empty()) {
      const std::string title = t.measure + " (" + t.split + "): trained x untrained layers";
      if (fits(trained.size(), untrained.size()))
        h += add_heatmap(w, "similarity_trained_untrained_" + key, similarity_heatmap(t, title, trained, untrained,
                                                  static_cast<int>(untrained.size()) <= config.max_annotated_cells));
      else
        h += too_big(title, trained.size(), untrained.size());
    }
    // init x init, per architecture and task, at the deepest conv layer present.
    std::map<std::pair<std::string, std::string>, std::map<std::string, std::vector<std::string>>> by_model;  // -> layer -> sets
    std::vector<std::pair<std::string, std::string>> model_order;
    std::set<std::string> tasks;
    for (const auto& s : layers) {
      const auto p = parse_layer_set(s);
      if (!p.ok) continue;
      const auto model = std::make_pair(p.arch, p.task);
      if (!by_model.count(model)) model_order.push_back(model);
      by_model[model][p.layer].push_back(s);
      tasks.insert(p.task);
    }
    for (const auto& model : model_order) {
      const auto& per_layer = by_model[model];
      std::string layer;
      for (const char* l : {"conv3", "conv2", "conv1", "fc1"})
        if (per_layer.count(l) && per_layer.at(l).size() >= 2) {
          layer = l;
          break;
        }
      if (layer.empty()) continue;
      const auto& sets = per_layer.at(layer);
      h += add_heatmap(w, "similarity_seeds_" + key + "_" + model.first + "_" + model.second + "_" + layer, similarity_heatmap(t, t.measure + " (" + t.split + "): " + model.first + " (" + model.second +
                                                       "), " + layer + ", seed x seed", sets, sets, true));
    }
    for (const auto& task : tasks) {
      const auto hm = arch_by_arch(t, task, "conv3");
      if (hm.row_labels.size() >= 2) h += add_heatmap(w, "similarity_archs_" + key + "_" + task, hm);
    }
  }
  return h;
}

}  // namespace cfma::report
