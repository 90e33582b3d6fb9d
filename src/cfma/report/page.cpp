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
  for (std::size_t i = 0; i < labels.size() && static_cast<int>(shown.size()) < config.spectrograms; ++i) {
    if (!shown.insert(labels[i]).second) continue;
    file.read_rows<float>(store::schema::mel_db, i, 1, mel.data());
    h += w.add("mel_" + notes[i], image_svg(notes[i] + " (mel dB)", mel, static_cast<int>(dims[1]),
                                            static_cast<int>(dims[2]), 2));
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
  return h;
}

std::string probe_section(const WorkPaths& paths) {
  std::string h = "<h2>Probes</h2>\n";
  bool any = false;
  for (const auto& [file, title] : std::vector<std::pair<std::string, std::string>>{
           {"transfer.csv", "Transfer matrix (mean, sd and 95 % interval over seeds)"},
           {"baselines.csv", "Reference rows: chance (majority class, train mean), noise, input, untrained twins"},
           {"concat.csv", "Top hand-crafted features concatenated to conv3"}}) {
    const auto path = paths.results() / file;
    if (!fs::exists(path)) continue;
    any = true;
    h += "<h3>" + escape_xml(title) + "</h3>\n" + table_html(read_csv(path));
  }
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
  body += probe_section(paths);
  body += similarity_section(paths, config, figures);
  body += "</body></html>\n";
  return body;
}

}  // namespace cfma::report
