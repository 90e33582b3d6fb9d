#include "cfma/report/page.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "cfma/core/error.hpp"
#include "cfma/report/csv.hpp"
#include "cfma/report/svg.hpp"
#include "cfma/store/h5.hpp"
#include "cfma/store/schema.hpp"

namespace cfma::report {
namespace fs = std::filesystem;

namespace {

std::string field(const Table& t, const std::vector<std::string>& row, const std::string& name) {
  const int c = t.column(name);
  return c >= 0 && static_cast<std::size_t>(c) < row.size() ? row[static_cast<std::size_t>(c)] : std::string();
}

// The test-split row of `target` and `metric` (transfer.csv, probes.csv, baselines.csv).
bool is_test_row(const Table& t, const std::vector<std::string>& row, const std::string& target, const std::string& metric) {
  return field(t, row, "target") == target && field(t, row, "split") == "test" && field(t, row, "metric") == metric;
}

// "mean ± sd" (population sd over seeds; the sd left out for one value), 4 significant digits.
std::string mean_sd(const std::vector<double>& v) {
  if (v.empty()) return "";
  double mean = 0;
  for (const double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  char buf[64];
  if (v.size() == 1) {
    std::snprintf(buf, sizeof buf, "%.4g", mean);
    return buf;
  }
  double ss = 0;
  for (const double x : v) ss += (x - mean) * (x - mean);
  std::snprintf(buf, sizeof buf, "%.4g \u00b1 %.2g", mean, std::sqrt(ss / static_cast<double>(v.size())));
  return buf;
}

// A histogram of integer labels (pitch, velocity): one bar per value present, and its data.
std::string label_histogram(FigureWriter& w, const std::string& name, const std::vector<std::int32_t>& values,
                            const std::vector<std::int64_t>& train, const std::vector<std::int64_t>& test) {
  std::map<std::int32_t, std::array<double, 2>> counts;
  for (const auto i : train) counts[values[static_cast<std::size_t>(i)]][0] += 1;
  for (const auto i : test) counts[values[static_cast<std::size_t>(i)]][1] += 1;
  BarChart chart{"notes per " + name + " (train + test)", name, "notes", {}, {}};
  Table data{{name, "train", "test"}, {}};
  for (const auto& [v, c] : counts) {
    chart.labels.push_back(std::to_string(v));
    chart.values.push_back(c[0] + c[1]);
    data.rows.push_back({std::to_string(v), std::to_string(static_cast<long long>(c[0])), std::to_string(static_cast<long long>(c[1]))});
  }
  return w.add_with_data("histogram_" + name, bar_chart_svg(chart), data);
}

}  // namespace

std::string dataset_section(const WorkPaths& paths, const ReportConfig& config, FigureWriter& w) {
  std::string h = "<h2>Dataset</h2>\n";
  if (!fs::exists(paths.features())) return h + "<p>features.h5 missing (preprocess did not run).</p>\n";
  const auto file = store::File::open_serial(paths.features());
  const auto names = file.read_strings(store::schema::label("family_names"));
  const auto labels = file.read_all<std::int32_t>(store::schema::label("family"));
  const auto train = file.read_all<std::int64_t>(store::schema::split_train);
  const auto test = file.read_all<std::int64_t>(store::schema::split_test);
  h += "<p>" + std::to_string(labels.size()) + " notes: " + std::to_string(train.size()) + " train, " +
       std::to_string(test.size()) + " test; skipped: " + std::to_string(file.attr_int("n_skipped")) +
       "; pad mode " + escape_xml(file.attr_string("pad_mode")) + ".</p>\n";
  // Notes per family and split.
  Table counts{{"family", "train", "test", "all"}, {}};
  std::vector<std::array<long long, 2>> per_family(names.size(), {0, 0});
  for (const auto i : train) ++per_family[static_cast<std::size_t>(labels[static_cast<std::size_t>(i)])][0];
  for (const auto i : test) ++per_family[static_cast<std::size_t>(labels[static_cast<std::size_t>(i)])][1];
  for (std::size_t k = 0; k < names.size(); ++k)
    counts.rows.push_back({names[k], std::to_string(per_family[k][0]), std::to_string(per_family[k][1]),
                           std::to_string(per_family[k][0] + per_family[k][1])});
  h += table_html(counts) + w.add_table("dataset_families", counts);
  for (const char* label : {"pitch", "velocity"})
    if (file.exists(store::schema::label(label)))
      h += label_histogram(w, label, file.read_all<std::int32_t>(store::schema::label(label)), train, test);
  const auto dims = file.dims(store::schema::mel_db);
  const auto notes = file.read_strings(store::schema::label("note_str"));
  std::set<int> shown;
  std::vector<float> mel(dims[1] * dims[2]);
  // Files written before preprocess recorded fmin / fmax have the default 0 to sr / 2.
  const auto sr = static_cast<int>(file.attr_int("sample_rate"));
  const ImageAxes axes = mel_axes(static_cast<int>(dims[1]), static_cast<int>(dims[2]),
                                  file.has_attr("fmin") ? file.attr_double("fmin") : 0.0,
                                  file.has_attr("fmax") ? file.attr_double("fmax") : sr / 2.0,
                                  static_cast<int>(file.attr_int("hop_length")), sr);
  if (config.spectrograms > 0) h += "<h3>One log-mel spectrogram per family</h3>\n";
  for (std::size_t i = 0; i < labels.size() && static_cast<int>(shown.size()) < config.spectrograms; ++i) {
    if (!shown.insert(labels[i]).second) continue;
    file.read_rows<float>(store::schema::mel_db, i, 1, mel.data());
    // Its data: one row per mel bin (lowest first), one column per frame.
    Table data{{"mel_bin"}, {}};
    for (hsize_t f = 0; f < dims[2]; ++f) data.header.push_back("frame_" + std::to_string(f));
    for (hsize_t b = 0; b < dims[1]; ++b) {
      std::vector<std::string> row{std::to_string(b)};
      for (hsize_t f = 0; f < dims[2]; ++f) {
        char buf[24];
        std::snprintf(buf, sizeof buf, "%.6g", mel[b * dims[2] + f]);
        row.push_back(buf);
      }
      data.rows.push_back(std::move(row));
    }
    h += w.add_with_data("mel_" + notes[i],
                         image_svg(names[static_cast<std::size_t>(labels[i])] + ": " + notes[i] + " (mel dB)", mel,
                                   static_cast<int>(dims[1]), static_cast<int>(dims[2]), 2, &axes),
                         data);
  }
  return h;
}

namespace {

struct RunHistory {
  std::string run, arch, task, seed;
  Table history;
};

std::vector<RunHistory> run_histories(const WorkPaths& paths) {
  std::vector<RunHistory> runs;
  if (!fs::exists(paths.runs())) return runs;
  for (const auto& e : fs::directory_iterator(paths.runs())) {
    if (!fs::exists(e.path() / "history.csv")) continue;
    RunHistory r;
    r.run = e.path().filename().string();
    const auto p = parse_layer_set(r.run + "/x");
    r.arch = p.ok ? p.arch : r.run;
    r.task = p.ok ? p.task : "";
    r.seed = p.ok ? p.seed : "";
    r.history = read_csv(e.path() / "history.csv");
    if (r.history.rows.empty() || r.history.header.size() < 5) continue;
    runs.push_back(std::move(r));
  }
  std::sort(runs.begin(), runs.end(), [](const RunHistory& a, const RunHistory& b) { return a.run < b.run; });
  return runs;
}

}  // namespace

std::string training_section(const WorkPaths& paths, FigureWriter& w) {
  std::string h = "<h2>Training</h2>\n";
  const auto runs = run_histories(paths);
  if (runs.empty()) return h + "<p>No runs (train did not run).</p>\n";
  // Per architecture and task, over seeds: the final epoch's values, and the curves per epoch.
  std::vector<std::pair<std::string, std::string>> models;
  std::map<std::pair<std::string, std::string>, std::vector<const RunHistory*>> seeds_of;
  for (const auto& r : runs) {
    const auto key = std::make_pair(r.arch, r.task);
    if (!seeds_of.count(key)) models.push_back(key);
    seeds_of[key].push_back(&r);
  }
  Table final_table{{"architecture", "task", "seeds", "epochs", "train loss", "train metric", "test loss", "test metric"}, {}};
  Table per_run{{"run", "epochs", "train loss", "train metric", "test loss", "test metric"}, {}};
  std::map<std::string, LineChart> charts;  // by metric column (accuracy or rmse), and "loss"
  std::map<std::string, Table> chart_data;
  for (const auto& model : models) {
    const auto& group = seeds_of[model];
    const auto& header = group.front()->history.header;  // epoch, train_loss, train_<m>, test_loss, test_<m>, ...
    std::array<std::vector<double>, 4> last;
    std::size_t epochs = 0;
    for (const auto* r : group) {
      const auto& row = r->history.rows.back();
      for (int k = 0; k < 4; ++k) last[static_cast<std::size_t>(k)].push_back(to_number(row[static_cast<std::size_t>(k + 1)]).value_or(NAN));
      epochs = std::max(epochs, r->history.rows.size());
      per_run.rows.push_back({r->run, row[0], row[1], row[2], row[3], row[4]});
    }
    const std::string metric = header[4].substr(header[4].find('_') + 1);  // accuracy or rmse
    final_table.rows.push_back({model.first, model.second, std::to_string(group.size()), std::to_string(epochs),
                                mean_sd(last[0]), mean_sd(last[1]) + " (" + metric + ")", mean_sd(last[2]),
                                mean_sd(last[3]) + " (" + metric + ")"});
    // Curves: mean +- sd over seeds per epoch, train and test.
    for (const auto& [chart_key, columns] : std::vector<std::pair<std::string, std::array<std::size_t, 2>>>{
             {metric, {2, 4}}, {"loss (" + model.second + ")", {1, 3}}}) {
      auto& chart = charts[chart_key];
      chart.title = (chart_key == metric ? metric : chart_key) + " per epoch (mean \u00b1 sd over seeds)";
      chart.x_label = "epoch";
      chart.y_label = chart_key == metric ? metric : "loss";
      auto& data = chart_data[chart_key];
      if (data.header.empty()) data.header = {"series", "epoch", "mean", "sd", "seeds"};
      for (const auto split : {0, 1}) {
        Series series{model.first + " (" + model.second + ") " + (split == 0 ? "train" : "test"), {}, {}, {}};
        series.style = static_cast<int>(&model - models.data());  // one colour per model
        series.dashed = split == 1;                                 // test dashed
        for (std::size_t e = 0; e < epochs; ++e) {
          std::vector<double> values;
          for (const auto* r : group)
            if (e < r->history.rows.size())
              if (const auto v = to_number(r->history.rows[e][columns[static_cast<std::size_t>(split)]])) values.push_back(*v);
          if (values.empty()) continue;
          double mean = 0, ss = 0;
          for (const double v : values) mean += v;
          mean /= static_cast<double>(values.size());
          for (const double v : values) ss += (v - mean) * (v - mean);
          const double sd = values.size() > 1 ? std::sqrt(ss / static_cast<double>(values.size())) : NAN;
          series.x.push_back(static_cast<double>(e + 1));
          series.y.push_back(mean);
          series.error.push_back(sd);
          data.rows.push_back({series.name, std::to_string(e + 1), std::to_string(mean), std::isfinite(sd) ? std::to_string(sd) : "",
                               std::to_string(values.size())});
        }
        chart.series.push_back(std::move(series));
      }
    }
  }
  h += "<h3>Final epoch per architecture and task</h3>\n" + table_html(final_table) +
       "<p>Every run: " + w.add_table("training_runs", per_run) + "; each run's history.csv is in runs/.</p>\n";
  int k = 0;
  for (const auto& [key, chart] : charts)
    h += w.add_with_data("training_" + std::to_string(k++), line_chart_svg(chart), chart_data[key]);
  // Confusion matrices: one per architecture (family task), counts added over seeds.
  for (const auto& model : models) {
    Table summed;
    for (const auto* r : seeds_of[model]) {
      const auto file = paths.run_dir(r->run) / "confusion.csv";
      if (!fs::exists(file)) continue;
      const auto counts = read_csv(file);
      if (summed.header.empty()) {
        summed = counts;
        continue;
      }
      for (std::size_t i = 0; i < summed.rows.size() && i < counts.rows.size(); ++i)
        for (std::size_t j = 1; j < summed.rows[i].size() && j < counts.rows[i].size(); ++j)
          summed.rows[i][j] = std::to_string(static_cast<long long>(to_number(summed.rows[i][j]).value_or(0) +
                                                                    to_number(counts.rows[i][j]).value_or(0)));
    }
    if (summed.header.empty()) continue;
    const auto name = model.first + "-" + model.second + " (" + std::to_string(seeds_of[model].size()) + " seeds)";
    h += w.add_with_data("confusion_" + model.first + "_" + model.second, heatmap_svg(confusion_heatmap(summed, name)), summed);
  }
  return h;
}

Heatmap confusion_heatmap(const Table& counts, const std::string& run) {
  Heatmap h;
  h.title = run + ": test confusion (rows: true class, share of the row)";
  h.col_labels.assign(counts.header.begin() + (counts.header.empty() ? 0 : 1), counts.header.end());
  for (const auto& row : counts.rows) {
    if (row.empty()) continue;
    h.row_labels.push_back(row[0]);
    double total = 0;
    std::vector<double> values;
    for (std::size_t c = 1; c <= h.col_labels.size(); ++c) {
      values.push_back(c < row.size() ? to_number(row[c]).value_or(NAN) : NAN);
      if (std::isfinite(values.back())) total += values.back();
    }
    for (const double v : values) h.values.push_back(total > 0 ? v / total : NAN);
  }
  h.vmin = 0;
  h.vmax = 1;
  h.annotate = h.col_labels.size() <= 15;
  return h;
}

std::vector<ProbeCurve> probe_curves(const WorkPaths& paths) {
  std::vector<ProbeCurve> curves;
  const auto transfer_path = paths.results() / "transfer.csv";
  if (!fs::exists(transfer_path)) return curves;
  const auto transfer = read_csv(transfer_path);
  for (const char* c : {"arch", "model_task", "layer", "target", "split", "metric", "mean"})
    if (transfer.column(c) < 0) throw ReportError(transfer_path.string() + ": expected a column '" + c + "'");
  const auto baselines_path = paths.results() / "baselines.csv";
  const auto probes_path = paths.results() / "probes.csv";
  const Table baselines = fs::exists(baselines_path) ? read_csv(baselines_path) : Table{};
  const Table probes = fs::exists(probes_path) ? read_csv(probes_path) : Table{};
  for (const auto& [target, metric] : std::vector<std::pair<std::string, std::string>>{
           {"family", "accuracy"}, {"pitch_class", "accuracy"}, {"pitch", "rmse"}, {"velocity", "rmse"}}) {
    ProbeCurve curve;
    curve.target = target;
    curve.metric = metric;
    auto& chart = curve.chart;
    chart.title = target + " probe: test " + metric + " per layer";
    chart.x_label = "layer";
    chart.y_label = "test " + metric;
    std::map<std::string, std::size_t> series_of;
    for (const auto& row : transfer.rows) {
      if (!is_test_row(transfer, row, target, metric)) continue;
      const auto layer = field(transfer, row, "layer");
      auto it = std::find(chart.x_ticks.begin(), chart.x_ticks.end(), layer);
      if (it == chart.x_ticks.end()) it = chart.x_ticks.insert(chart.x_ticks.end(), layer);
      const std::string name = field(transfer, row, "arch") + " (" + field(transfer, row, "model_task") + ")";
      if (!series_of.count(name)) {
        series_of[name] = chart.series.size();
        chart.series.push_back({name, {}, {}, {}});
      }
      auto& series = chart.series[series_of[name]];
      series.x.push_back(static_cast<double>(it - chart.x_ticks.begin()));
      series.y.push_back(to_number(field(transfer, row, "mean")).value_or(NAN));
      series.error.push_back(to_number(field(transfer, row, "sd")).value_or(NAN));  // empty for one seed
      curve.data.rows.push_back({name, layer, field(transfer, row, "mean"), field(transfer, row, "sd"),
                                 field(transfer, row, "seeds")});
    }
    if (chart.series.empty()) continue;
    // Reference lines: chance, noise and the input (baselines.csv), the best hand-crafted set.
    for (const auto& row : baselines.rows) {
      const auto name = field(baselines, row, "baseline");
      if (field(baselines, row, "target") != target || field(baselines, row, "split") != "test" ||
          field(baselines, row, "metric") != metric || name.rfind("untrained:", 0) == 0)
        continue;
      const auto label = name == "chance" ? std::string(metric == "accuracy" ? "chance (majority class)" : "chance (train mean)") : name;
      chart.references.push_back({label, to_number(field(baselines, row, "value")).value_or(NAN)});
    }
    std::string best_set;
    double best = NAN;
    for (const auto& row : probes.rows) {
      const auto set = field(probes, row, "set");
      if ((set.rfind("hand/", 0) != 0 && set.rfind("group/", 0) != 0) || field(probes, row, "target") != target ||
          field(probes, row, "split") != "test" || field(probes, row, "metric") != metric)
        continue;
      const double v = to_number(field(probes, row, "value")).value_or(NAN);
      if (std::isfinite(v) && (!std::isfinite(best) || (metric == "accuracy" ? v > best : v < best))) best = v, best_set = set;
    }
    if (std::isfinite(best)) chart.references.push_back({"best hand-crafted: " + best_set, best});
    for (const auto& r : chart.references) curve.data.rows.push_back({"reference: " + r.name, "", std::to_string(r.y), "", ""});
    curves.push_back(std::move(curve));
  }
  return curves;
}

std::vector<std::pair<std::string, Table>> transfer_tables(const WorkPaths& paths) {
  std::vector<std::pair<std::string, Table>> tables;
  const auto path = paths.results() / "transfer.csv";
  if (!fs::exists(path)) return tables;
  const auto transfer = read_csv(path);
  auto cell = [](const std::string& mean, const std::string& sd) {
    const auto m = to_number(mean), d = to_number(sd);
    if (!m) return std::string();
    char buf[64];
    if (d && std::isfinite(*d))
      std::snprintf(buf, sizeof buf, "%.4g \u00b1 %.2g", *m, *d);
    else
      std::snprintf(buf, sizeof buf, "%.4g", *m);
    return std::string(buf);
  };
  for (const auto& [target, metric] : std::vector<std::pair<std::string, std::string>>{
           {"family", "accuracy"}, {"pitch_class", "accuracy"}, {"pitch", "rmse"}, {"velocity", "rmse"},
           {"family_selectivity", "accuracy"}, {"pitch_selectivity", "r2"}}) {
    Table t{{"model (training task)"}, {}};
    std::map<std::string, std::size_t> row_of;
    for (const auto& row : transfer.rows) {
      if (!is_test_row(transfer, row, target, metric)) continue;
      const auto layer = field(transfer, row, "layer");
      auto col = std::find(t.header.begin(), t.header.end(), layer);
      if (col == t.header.end()) {
        t.header.push_back(layer);
        col = t.header.end() - 1;
        for (auto& r : t.rows) r.resize(t.header.size());
      }
      const std::string model = field(transfer, row, "arch") + " (" + field(transfer, row, "model_task") + ")";
      if (!row_of.count(model)) {
        row_of[model] = t.rows.size();
        t.rows.push_back(std::vector<std::string>(t.header.size()));
        t.rows.back()[0] = model;
      }
      t.rows[row_of[model]][static_cast<std::size_t>(col - t.header.begin())] =
          cell(field(transfer, row, "mean"), field(transfer, row, "sd"));
    }
    if (!t.rows.empty()) tables.emplace_back(target + ": test " + metric + " per layer (mean \u00b1 sd over seeds)", std::move(t));
  }
  return tables;
}

Table concat_table(const WorkPaths& paths) {
  Table t{{"model (training task)", "layer"}, {}};
  const auto path = paths.results() / "concat.csv";
  if (!fs::exists(path)) return t;
  const auto concat = read_csv(path);
  std::vector<std::pair<std::string, std::string>> rows;  // (model, layer)
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::vector<double>>> values;
  for (const auto& row : concat.rows) {
    if (field(concat, row, "target") != "family" || field(concat, row, "split") != "test" ||
        field(concat, row, "metric") != "accuracy")
      continue;
    const auto key = std::make_pair(field(concat, row, "arch") + " (" + field(concat, row, "task") + ")", field(concat, row, "layer"));
    if (!values.count(key)) rows.push_back(key);
    const auto set = field(concat, row, "added_set");
    if (std::find(t.header.begin(), t.header.end(), "+ " + set) == t.header.end()) t.header.push_back("+ " + set);
    if (const auto v = to_number(field(concat, row, "value"))) values[key][set].push_back(*v);
  }
  for (const auto& key : rows) {
    std::vector<std::string> out{key.first, key.second};
    for (std::size_t c = 2; c < t.header.size(); ++c) out.push_back(mean_sd(values[key][t.header[c].substr(2)]));
    t.rows.push_back(std::move(out));
  }
  return t;
}

std::string probe_section(const WorkPaths& paths, FigureWriter& w) {
  std::string h = "<h2>Probes</h2>\n";
  bool any = false;
  for (auto& curve : probe_curves(paths)) {
    any = true;
    h += w.add_with_data("probe_curve_" + curve.target + "_" + curve.metric, line_chart_svg(curve.chart), curve.data);
  }
  const auto compact = transfer_tables(paths);
  if (!compact.empty()) h += "<h3>Transfer matrix</h3>\n";
  for (const auto& [title, table] : compact)
    h += "<h4>" + escape_xml(title) + "</h4>\n" + table_html(table) +
         w.add_table("transfer_" + title.substr(0, title.find(':')) + "_" + title.substr(title.find("test ") + 5, title.find(" per") - title.find("test ") - 5), table);
  if (const auto concat = concat_table(paths); !concat.rows.empty())
    h += "<h3>Concatenation</h3>\n<p>The top hand-crafted sets (ranked by family test accuracy) concatenated to the "
         "concatenation layer: family test accuracy, mean ± sd over seeds.</p>\n" +
         table_html(concat) + w.add_table("concat_summary", concat);
  // Long tables stay files: linked, not inline.
  std::string links;
  for (const auto& [file, title] : std::vector<std::pair<std::string, std::string>>{
           {"transfer.csv", "transfer matrix, long format (every target, split and metric; sd and 95 % interval)"},
           {"baselines.csv", "reference rows: chance (majority class, train mean), noise, input, untrained twins"},
           {"concat.csv", "top hand-crafted features concatenated to conv3"},
           {"probes.csv", "every probe of every set"}}) {
    if (!fs::exists(paths.results() / file)) continue;
    any = true;
    links += "<li><a href=\"../results/" + file + "\">results/" + file + "</a>: " + escape_xml(title) + "</li>\n";
  }
  if (!links.empty()) h += "<h3>Tables</h3>\n<ul>\n" + links + "</ul>\n";
  if (!any) h += "<p>No probe results (probe did not run).</p>\n";
  return h;
}

std::string report_page(const WorkPaths& paths, const std::string& name, const ReportConfig& config,
                        FigureWriter& figures) {
  std::string body = "<!doctype html><html><head><meta charset='utf-8'><title>cfma report: " + escape_xml(name) +
                     "</title><style>body{font-family:sans-serif;margin:2em}"
                     "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
                     "font-size:12px}img{margin:4px;vertical-align:top}figure{display:inline-block;margin:4px;vertical-align:top}figcaption{font-size:12px}</style></head><body>\n";
  body += "<h1>cfma report: " + escape_xml(name) + "</h1>\n";
  body += run_summary_section(paths, name);
  body += reproduction_section(paths, name, figures);
  body += dataset_section(paths, config, figures);
  body += training_section(paths, figures);
  body += probe_section(paths, figures);
  body += similarity_section(paths, config, figures);
  body += "</body></html>\n";
  return body;
}

}  // namespace cfma::report
