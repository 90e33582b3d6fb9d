#include "cfma/report/page.hpp"

#include <algorithm>
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

using SetPair = std::pair<std::string, std::string>;

// The value of a pair of sets in either order, or NaN.
double pair_value(const std::map<SetPair, double>& values, const std::string& a, const std::string& b) {
  auto it = values.find({a, b});
  if (it == values.end()) it = values.find({b, a});
  return it == values.end() ? NAN : it->second;
}

}  // namespace

const std::vector<std::string>& paper_top5_sets() {
  static const std::vector<std::string> sets = {"hand/mean_power", "hand/time_to_70db", "hand/wavelet_mean_25",
                                                "group/wavelets_combined_25", "group/top_combined", "noise"};
  return sets;
}

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
       "; pad mode " + escape_xml(file.attr_string("pad_mode")) + ".</p>\n<table><tr><th>family</th><th>notes</th></tr>\n";
  std::vector<int> counts(names.size(), 0);
  for (const auto l : labels) ++counts[static_cast<std::size_t>(l)];
  for (std::size_t k = 0; k < names.size(); ++k)
    h += "<tr><td>" + escape_xml(names[k]) + "</td><td>" + std::to_string(counts[k]) + "</td></tr>\n";
  h += "</table>\n";
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
  for (std::size_t i = 0; i < labels.size() && static_cast<int>(shown.size()) < config.spectrograms; ++i) {
    if (!shown.insert(labels[i]).second) continue;
    file.read_rows<float>(store::schema::mel_db, i, 1, mel.data());
    h += w.add("mel_" + notes[i], image_svg(notes[i] + " (mel dB)", mel, static_cast<int>(dims[1]),
                                            static_cast<int>(dims[2]), 2, &axes));
  }
  return h;
}

std::string training_section(const WorkPaths& paths, FigureWriter& w) {
  std::string h = "<h2>Training</h2>\n";
  if (!fs::exists(paths.runs())) return h + "<p>No runs (train did not run).</p>\n";
  std::vector<fs::path> runs;
  for (const auto& e : fs::directory_iterator(paths.runs()))
    if (fs::exists(e.path() / "history.csv")) runs.push_back(e.path());
  std::sort(runs.begin(), runs.end());
  Table summary{{"run", "epochs", "train loss", "train metric", "test loss", "test metric"}, {}};
  std::map<std::string, LineChart> charts;  // by metric name
  for (const auto& dir : runs) {
    const auto t = read_csv(dir / "history.csv");
    if (t.rows.empty() || t.header.size() < 5) continue;
    const std::string metric = t.header[4];  // test_accuracy or test_rmse
    auto& chart = charts[metric];
    chart.title = metric + " per epoch";
    chart.x_label = "epoch";
    chart.y_label = metric;
    Series s{dir.filename().string(), {}, {}, {}};
    for (const auto& row : t.rows) {
      s.x.push_back(to_number(row[0]).value_or(NAN));
      s.y.push_back(to_number(row[4]).value_or(NAN));
    }
    chart.series.push_back(std::move(s));
    const auto& last = t.rows.back();
    summary.rows.push_back({dir.filename().string(), last[0], last[1], last[2], last[3], last[4]});
  }
  h += table_html(summary);
  for (const auto& [metric, chart] : charts) h += w.add("training_" + metric, line_chart_svg(chart));
  for (const auto& dir : runs)
    if (fs::exists(dir / "confusion.csv")) {
      const auto counts = read_csv(dir / "confusion.csv");
      h += w.add_with_data("confusion_" + dir.filename().string(),
                           heatmap_svg(confusion_heatmap(counts, dir.filename().string())), counts);
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

namespace {

std::string field(const Table& t, const std::vector<std::string>& row, const std::string& name) {
  const int c = t.column(name);
  return c >= 0 && static_cast<std::size_t>(c) < row.size() ? row[static_cast<std::size_t>(c)] : std::string();
}

}  // namespace

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
      if (field(transfer, row, "target") != target || field(transfer, row, "split") != "test" ||
          field(transfer, row, "metric") != metric)
        continue;
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
      if (field(transfer, row, "target") != target || field(transfer, row, "split") != "test" ||
          field(transfer, row, "metric") != metric)
        continue;
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

std::string probe_section(const WorkPaths& paths, FigureWriter& w) {
  std::string h = "<h2>Probes</h2>\n";
  bool any = false;
  for (auto& curve : probe_curves(paths)) {
    any = true;
    h += w.add_with_data("probe_curve_" + curve.target + "_" + curve.metric, line_chart_svg(curve.chart), curve.data);
  }
  const auto compact = transfer_tables(paths);
  if (!compact.empty()) h += "<h3>Transfer matrix</h3>\n";
  for (const auto& [title, table] : compact) h += "<h4>" + escape_xml(title) + "</h4>\n" + table_html(table);
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

std::string similarity_section(const WorkPaths& paths, const ReportConfig& config, FigureWriter& w) {
  std::string h = "<h2>Similarity</h2>\n";
  const auto path = paths.results() / "similarity.csv";
  if (!fs::exists(path)) return h + "<p>No similarity results (similarity did not run).</p>\n";
  const auto t = read_csv(path);
  const int c_split = t.column("split"), c_measure = t.column("measure"), c_a = t.column("set_a"),
            c_b = t.column("set_b"), c_value = t.column("value");
  if (std::min({c_split, c_measure, c_a, c_b, c_value}) < 0)
    throw ReportError(path.string() + ": expected columns split, measure, set_a, set_b, value");
  // By (split, measure): the value of each pair of sets, and the sets in order of appearance.
  std::map<SetPair, std::map<SetPair, double>> tables;
  std::map<SetPair, std::vector<std::string>> set_order;
  for (const auto& row : t.rows) {
    const auto key = std::make_pair(row[static_cast<std::size_t>(c_split)], row[static_cast<std::size_t>(c_measure)]);
    const auto& a = row[static_cast<std::size_t>(c_a)];
    const auto& b = row[static_cast<std::size_t>(c_b)];
    tables[key][{a, b}] = to_number(row[static_cast<std::size_t>(c_value)]).value_or(NAN);
    auto& order = set_order[key];
    for (const auto* s : {&a, &b})
      if (std::find(order.begin(), order.end(), *s) == order.end()) order.push_back(*s);
  }
  for (const auto& [key, values] : tables) {
    const auto& sets = set_order[key];
    // Rows: network layers; columns: everything, so the paper's layer x hand-crafted view and
    // the layer x layer view are both in one figure.
    std::vector<std::string> rows;
    for (const auto& s : sets)
      if (s.rfind("hand/", 0) != 0 && s.rfind("group/", 0) != 0 && s != "noise" && s != "input") rows.push_back(s);
    if (rows.empty()) rows = sets;
    Heatmap hm;
    hm.title = key.second + " (" + key.first + ")";
    hm.row_labels = rows;
    hm.col_labels = sets;
    hm.annotate = static_cast<int>(sets.size()) <= config.max_annotated_cells;
    const auto cells = static_cast<std::int64_t>(rows.size() * sets.size());
    if (cells <= config.max_heatmap_cells) {
      for (const auto& r : rows)
        for (const auto& c : sets) hm.values.push_back(pair_value(values, r, c));
      h += w.add("similarity_" + key.first + "_" + key.second, heatmap_svg(hm));
    } else {
      h += "<p>" + escape_xml(hm.title) + ": " + std::to_string(rows.size()) + " x " + std::to_string(sets.size()) +
           " sets is more than report.max_heatmap_cells (" + std::to_string(config.max_heatmap_cells) +
           ") for one figure; every value is in <a href=\"../results/similarity.csv\">results/similarity.csv</a>.</p>\n";
    }
    // The paper's annotated view: layers x its top-5 hand-crafted sets present here.
    Heatmap focus = hm;
    focus.title = key.second + " (" + key.first + "): layers x the paper's top-5 hand-crafted sets";
    focus.col_labels.clear();
    focus.values.clear();
    for (const auto& c : paper_top5_sets())
      if (std::find(sets.begin(), sets.end(), c) != sets.end()) focus.col_labels.push_back(c);
    focus.annotate = true;
    for (const auto& r : rows)
      for (const auto& c : focus.col_labels) focus.values.push_back(pair_value(values, r, c));
    if (!focus.col_labels.empty() && focus.col_labels.size() < sets.size())
      h += w.add("similarity_top5_" + key.first + "_" + key.second, heatmap_svg(focus));
  }
  return h;
}

std::string report_page(const WorkPaths& paths, const std::string& name, const ReportConfig& config,
                        FigureWriter& figures) {
  std::string body = "<!doctype html><html><head><meta charset='utf-8'><title>cfma report: " + escape_xml(name) +
                     "</title><style>body{font-family:sans-serif;margin:2em}"
                     "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
                     "font-size:12px}img{margin:4px;vertical-align:top}</style></head><body>\n";
  body += "<h1>cfma report: " + escape_xml(name) + "</h1>\n<p>workdir " + escape_xml(paths.workdir.string()) + "</p>\n";
  body += dataset_section(paths, config, figures);
  body += training_section(paths, figures);
  body += probe_section(paths, figures);
  body += similarity_section(paths, config, figures);
  body += "</body></html>\n";
  return body;
}

}  // namespace cfma::report
