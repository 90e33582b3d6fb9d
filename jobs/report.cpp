// `cfma report CONFIG` (rank 0): report/index.html with figures from every stage's outputs
// found in the workdir: dataset and spectrograms, training curves, probe tables, similarity
// heat maps. Stages that did not run are listed as missing, not invented.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/manifest.hpp"
#include "cfma/core/paths.hpp"
#include "cfma/core/run_config.hpp"
#include "cfma/par/world.hpp"
#include "cfma/report/csv.hpp"
#include "cfma/report/svg.hpp"
#include "cfma/store/h5.hpp"
#include "cfma/store/schema.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {
namespace {
namespace fs = std::filesystem;
using report::escape_xml;

struct ReportConfig {
  int spectrograms = 4;             // example spectrograms shown (one per family, first ones)
  int max_annotated_cells = 15;     // heat maps with at most this many columns are annotated
};

ReportConfig parse_report_config(const ConfigDoc& doc) {
  const auto s = doc.section("report");
  ReportConfig c;
  c.spectrograms = static_cast<int>(s.get_int("spectrograms", c.spectrograms, between(0, 64)));
  c.max_annotated_cells = static_cast<int>(s.get_int("max_annotated_cells", c.max_annotated_cells, between(0, 1000)));
  return c;
}

std::string table_html(const report::Table& t, std::size_t max_rows = 200) {
  std::string h = "<table><tr>";
  for (const auto& c : t.header) h += "<th>" + escape_xml(c) + "</th>";
  h += "</tr>\n";
  for (std::size_t i = 0; i < t.rows.size() && i < max_rows; ++i) {
    h += "<tr>";
    for (const auto& f : t.rows[i]) {
      const auto v = report::to_number(f);
      char buf[32];
      if (v && std::floor(*v) != *v) std::snprintf(buf, sizeof buf, "%.4g", *v);
      h += "<td>" + (v && std::floor(*v) != *v ? std::string(buf) : escape_xml(f)) + "</td>";
    }
    h += "</tr>\n";
  }
  h += "</table>\n";
  if (t.rows.size() > max_rows) h += "<p>(" + std::to_string(t.rows.size() - max_rows) + " more rows in the CSV)</p>\n";
  return h;
}

struct Writer {
  fs::path dir;
  int figures = 0;
  std::string add(const std::string& stem, const std::string& svg) {
    const std::string name = stem + ".svg";
    std::ofstream(dir / name) << svg;
    ++figures;
    return "<img src='" + name + "' alt='" + escape_xml(stem) + "'>\n";
  }
};

std::string dataset_section(const WorkPaths& paths, const ReportConfig& config, Writer& w) {
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
    h += w.add("mel_" + notes[i], report::image_svg(notes[i] + " (mel dB)", mel, static_cast<int>(dims[1]),
                                                    static_cast<int>(dims[2]), 2));
  }
  return h;
}

std::string training_section(const WorkPaths& paths, Writer& w) {
  std::string h = "<h2>Training</h2>\n";
  if (!fs::exists(paths.runs())) return h + "<p>No runs (train did not run).</p>\n";
  std::vector<fs::path> runs;
  for (const auto& e : fs::directory_iterator(paths.runs()))
    if (fs::exists(e.path() / "history.csv")) runs.push_back(e.path());
  std::sort(runs.begin(), runs.end());
  report::Table summary{{"run", "epochs", "train loss", "train metric", "test loss", "test metric"}, {}};
  std::map<std::string, report::LineChart> charts;  // by metric name
  for (const auto& dir : runs) {
    const auto t = report::read_csv(dir / "history.csv");
    if (t.rows.empty() || t.header.size() < 5) continue;
    const std::string metric = t.header[4];  // test_accuracy or test_rmse
    auto& chart = charts[metric];
    chart.title = metric + " per epoch";
    chart.x_label = "epoch";
    chart.y_label = metric;
    report::Series s{dir.filename().string(), {}, {}, {}};
    for (const auto& row : t.rows) {
      s.x.push_back(report::to_number(row[0]).value_or(NAN));
      s.y.push_back(report::to_number(row[4]).value_or(NAN));
    }
    chart.series.push_back(std::move(s));
    const auto& last = t.rows.back();
    summary.rows.push_back({dir.filename().string(), last[0], last[1], last[2], last[3], last[4]});
  }
  h += table_html(summary);
  for (const auto& [metric, chart] : charts) h += w.add("training_" + metric, report::line_chart_svg(chart));
  return h;
}

std::string probe_section(const WorkPaths& paths) {
  std::string h = "<h2>Probes</h2>\n";
  bool any = false;
  for (const auto& [file, title] : std::vector<std::pair<std::string, std::string>>{
           {"transfer.csv", "Transfer matrix (mean and sd over seeds)"},
           {"concat.csv", "Top hand-crafted features concatenated to conv3"}}) {
    const auto path = paths.results() / file;
    if (!fs::exists(path)) continue;
    any = true;
    h += "<h3>" + escape_xml(title) + "</h3>\n" + table_html(report::read_csv(path));
  }
  if (!any) h += "<p>No probe results (probe did not run).</p>\n";
  return h;
}

std::string similarity_section(const WorkPaths& paths, const ReportConfig& config, Writer& w) {
  std::string h = "<h2>Similarity</h2>\n";
  const auto path = paths.results() / "similarity.csv";
  if (!fs::exists(path)) return h + "<p>No similarity results (similarity did not run).</p>\n";
  const auto t = report::read_csv(path);
  const int c_split = t.column("split"), c_measure = t.column("measure"), c_a = t.column("set_a"),
            c_b = t.column("set_b"), c_value = t.column("value");
  if (std::min({c_split, c_measure, c_a, c_b, c_value}) < 0)
    throw ReportError(path.string() + ": expected columns split, measure, set_a, set_b, value");
  std::map<std::pair<std::string, std::string>, std::map<std::pair<std::string, std::string>, double>> tables;
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> set_order;
  for (const auto& row : t.rows) {
    const auto key = std::make_pair(row[static_cast<std::size_t>(c_split)], row[static_cast<std::size_t>(c_measure)]);
    const auto& a = row[static_cast<std::size_t>(c_a)];
    const auto& b = row[static_cast<std::size_t>(c_b)];
    tables[key][{a, b}] = report::to_number(row[static_cast<std::size_t>(c_value)]).value_or(NAN);
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
    report::Heatmap hm;
    hm.title = key.second + " (" + key.first + ")";
    hm.row_labels = rows;
    hm.col_labels = sets;
    hm.annotate = static_cast<int>(sets.size()) <= config.max_annotated_cells;
    for (const auto& r : rows)
      for (const auto& c : sets) {
        auto it = values.find({r, c});
        if (it == values.end()) it = values.find({c, r});
        hm.values.push_back(it == values.end() ? NAN : it->second);
      }
    h += w.add("similarity_" + key.first + "_" + key.second, report::heatmap_svg(hm));
    // The paper's annotated view: layers x its "top-5" hand-crafted subset (spec 2.5: Mean
    // Power, Time to -70 dB, Mean Wavelet-25, Wavelets Combined-25, Top Combined, Random).
    static const std::vector<std::string> top5 = {"hand/mean_power", "hand/time_to_70db", "hand/wavelet_mean_25",
                                                  "group/wavelets_combined_25", "group/top_combined", "noise"};
    report::Heatmap focus = hm;
    focus.title = key.second + " (" + key.first + "): layers x the paper's top-5 hand-crafted sets";
    focus.col_labels.clear();
    focus.values.clear();
    for (const auto& c : top5)
      if (std::find(sets.begin(), sets.end(), c) != sets.end()) focus.col_labels.push_back(c);
    focus.annotate = true;
    for (const auto& r : rows)
      for (const auto& c : focus.col_labels) {
        auto it = values.find({r, c});
        if (it == values.end()) it = values.find({c, r});
        focus.values.push_back(it == values.end() ? NAN : it->second);
      }
    if (!focus.col_labels.empty() && focus.col_labels.size() < sets.size())
      h += w.add("similarity_top5_" + key.first + "_" + key.second, report::heatmap_svg(focus));
  }
  return h;
}

void validate(const ConfigDoc& doc) { parse_report_config(doc); }

void run(const ConfigDoc& doc, const StageOptions& options) {
  auto& comm = par::World::comm();
  const auto run_config = parse_run_config(doc);
  const auto config = parse_report_config(doc);
  const WorkPaths paths{run_config.workdir};
  const auto index = paths.report() / "index.html";
  nlohmann::json inputs = nlohmann::json::object();
  for (const auto& p : {paths.features(), paths.results() / "probes.csv", paths.results() / "similarity.csv"})
    if (fs::exists(p)) inputs[p.filename().string()] = output_fingerprint(p);
  if (fs::exists(paths.runs()))
    for (const auto& e : fs::directory_iterator(paths.runs()))
      if (fs::exists(e.path() / "history.csv")) inputs[e.path().filename().string()] = output_fingerprint(e.path() / "history.csv");
  const StageKey key{"report", {{"spectrograms", config.spectrograms}, {"max_annotated_cells", config.max_annotated_cells}}, inputs};
  std::string error;
  if (comm.rank() == 0) {
    try {
      if (!options.force && is_up_to_date(index, key)) {
        spdlog::info("report: {} is up to date, skipped", index.string());
      } else {
        AtomicOutput out(paths.report(), std::to_string(::getpid()));
        fs::create_directories(out.temp_path());
        Writer w{out.temp_path()};
        std::string body = "<!doctype html><html><head><meta charset='utf-8'><title>cfma report: " +
                           escape_xml(run_config.name) + "</title><style>body{font-family:sans-serif;margin:2em}"
                           "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
                           "font-size:12px}img{margin:4px;vertical-align:top}</style></head><body>\n";
        body += "<h1>cfma report: " + escape_xml(run_config.name) + "</h1>\n<p>workdir " +
                escape_xml(run_config.workdir.string()) + "</p>\n";
        body += dataset_section(paths, config, w);
        body += training_section(paths, w);
        body += probe_section(paths);
        body += similarity_section(paths, config, w);
        body += "</body></html>\n";
        std::ofstream(out.temp_path() / "index.html") << body;
        fs::remove_all(paths.report());
        out.commit();
        write_manifest(index, key, {{"figures", w.figures}});
        spdlog::info("report: wrote {} ({} figures)", index.string(), w.figures);
      }
    } catch (const Error& e) {
      error = e.what();
    }
  }
  par::check_all(comm, error);
}

const Registrar report_stage{Stage{"report", 60, "HTML report with tables and figures (rank 0)", validate, run}};

}  // namespace
}  // namespace cfma::jobs
