#include "cfma/report/summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/manifest.hpp"
#include "cfma/report/html.hpp"
#include "cfma/report/svg.hpp"

namespace cfma::report {
const char* paper_results_csv();  // generated from paper_results.csv (CMakeLists.txt)

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::vector<std::string>& pipeline() {
  static const std::vector<std::string> stages = {"preprocess", "train", "extract", "probe", "similarity", "report"};
  return stages;
}

std::string number(double v, const char* format = "%.4g") {
  if (!std::isfinite(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string seconds_text(double s) {
  char buf[64];
  if (s < 120) std::snprintf(buf, sizeof buf, "%.1f s", s);
  else if (s < 7200) std::snprintf(buf, sizeof buf, "%.1f min", s / 60);
  else std::snprintf(buf, sizeof buf, "%.2f h", s / 3600);
  return buf;
}

json read_study_json(const WorkPaths& paths) {
  const auto file = paths.workdir / "study.json";
  if (!fs::exists(file)) return json();
  try {
    return json::parse(read_file(file));
  } catch (const json::exception& e) {
    throw ReportError(file.string() + ": damaged study manifest: " + e.what());
  }
}

}  // namespace

std::vector<StageTime> stage_times(const json& study) {
  std::vector<StageTime> times;
  if (!study.is_object() || !study.contains("stages")) return times;
  for (const auto& stage : pipeline()) {
    if (!study["stages"].contains(stage)) continue;
    const auto& invocations = study["stages"][stage].value("invocations", json::array());
    const json* chosen = nullptr;
    for (const auto& inv : invocations)
      if (!inv.value("up_to_date", false)) chosen = &inv;
    if (!chosen && !invocations.empty()) chosen = &invocations.back();
    if (!chosen) continue;
    StageTime t;
    t.stage = stage;
    t.wall_s = chosen->value("wall_s", 0.0);
    t.ranks = chosen->value("ranks", 0);
    t.threads = chosen->value("threads", 0);
    t.finished = chosen->value("finished", "");
    const auto hosts = chosen->value("hosts", json::object());  // named: items() does not keep it alive
    for (const auto& [host, count] : hosts.items())
      t.hosts += (t.hosts.empty() ? "" : ", ") + host + " (" + std::to_string(count.get<int>()) + ")";
    if (chosen->contains("slurm_job_id"))
      t.slurm_job = (*chosen)["slurm_job_id"].get<std::string>() + ", attempt " +
                    std::to_string(chosen->value("slurm_attempt", 1));
    times.push_back(std::move(t));
  }
  return times;
}

std::string run_summary_section(const WorkPaths& paths, const std::string& name) {
  std::string h = "<h2>Run summary</h2>\n";
  const auto study = read_study_json(paths);
  h += "<p>Study <b>" + escape_xml(name) + "</b>, workdir <code>" + escape_xml(fs::absolute(paths.workdir).string()) +
       "</code>: features.h5, runs/, activations/, results/ (every table below as CSV), report/.</p>\n";
  if (!study.is_object()) return h + "<p>No study manifest (study.json): the stages ran before cfma recorded them.</p>\n";
  const auto& cfma = study.value("cfma", json::object());
  h += "<p>Config: <a href=\"../study.toml\">study.toml</a> (the effective config of the latest stage, from " +
       escape_xml(study.value("config_file", std::string("?"))) +
       "); every stage, output hash and version: <a href=\"../study.json\">study.json</a> (<code>cfma verify</code> "
       "compares two studies).</p>\n";
  Table versions{{"component", "version"}, {}};
  versions.rows.push_back({"cfma", cfma.value("version", std::string()) + " (" + cfma.value("source_commit", std::string()) + ")"});
  const auto environment = study.value("environment", json::object());
  for (const auto& [key, value] : environment.items())
    versions.rows.push_back({key, value.is_string() ? value.get<std::string>() : value.dump()});
  h += "<h3>Build and machine</h3>\n" + table_html(versions);
  Table stages{{"stage", "wall time", "ranks", "threads per rank", "hosts (ranks)", "Slurm job", "finished"}, {}};
  for (const auto& t : stage_times(study))
    stages.rows.push_back({t.stage, seconds_text(t.wall_s), std::to_string(t.ranks), std::to_string(t.threads), t.hosts,
                           t.slurm_job, t.finished});
  h += "<h3>Stages</h3>\n" + table_html(stages);
  // Notes the preprocess stage left out, and why.
  if (const auto manifest = read_manifest(paths.features()); manifest && manifest->contains("skipped")) {
    const auto& skipped = (*manifest)["skipped"];
    h += "<p>Notes skipped by preprocess: " + std::to_string(skipped.size()) + ".</p>\n";
    if (!skipped.empty()) {
      Table t{{"note", "problem"}, {}};
      for (const auto& p : skipped) t.rows.push_back({p.value("note_str", ""), p.value("message", "")});
      h += table_html(t, 20);
    }
  }
  if (const auto& inputs = study.value("inputs", json::object()); !inputs.empty())
    h += "<p>Inputs: " + std::to_string(inputs.value("audio_files", 0)) + " wav files under <code>" +
         escape_xml(inputs.value("data_root", "")) + "</code>, hashed in study.json (combined " +
         escape_xml(inputs.value("audio_hash", "")) + ").</p>\n";
  return h;
}

Table paper_results() { return parse_csv(paper_results_csv(), "paper_results.csv"); }

namespace {

std::string field(const Table& t, const std::vector<std::string>& row, const std::string& name) {
  const int c = t.column(name);
  return c >= 0 && static_cast<std::size_t>(c) < row.size() ? row[static_cast<std::size_t>(c)] : std::string();
}

Table optional_csv(const fs::path& file) { return fs::exists(file) ? read_csv(file) : Table{}; }

double mean_of(const std::vector<double>& v) {
  if (v.empty()) return NAN;
  double s = 0;
  for (const double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// This run's value for one reference row, in the reference's units (accuracy in %), or NaN.
struct RunResults {
  Table transfer, concat, similarity;
  // arch-task -> its history.csv header (the task decides the metric columns) and the last row
  // of each seed's run.
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::vector<std::string>>>> history_last;
};

double run_value(const RunResults& r, const Table& ref, const std::vector<std::string>& row) {
  const auto quantity = field(ref, row, "quantity"), arch = field(ref, row, "arch"), task = field(ref, row, "model_task"),
             layer = field(ref, row, "layer"), target = field(ref, row, "target"), split = field(ref, row, "split"),
             metric = field(ref, row, "metric");
  const double scale = metric == "accuracy_pct" ? 100.0 : 1.0;
  const std::string run_metric = metric == "accuracy_pct" ? "accuracy" : metric;
  if (quantity == "training") {
    const auto it = r.history_last.find(arch + "-" + task);
    if (it == r.history_last.end()) return NAN;
    std::vector<double> values;
    const std::string column = split + "_" + run_metric;
    const auto& [header, last_rows] = it->second;
    const auto c = std::find(header.begin(), header.end(), column);
    if (c == header.end()) return NAN;
    for (const auto& last : last_rows)
      if (const auto v = to_number(last[static_cast<std::size_t>(c - header.begin())])) values.push_back(*v);
    return mean_of(values);  // history.csv holds accuracy in % already
  }
  if (quantity == "probe") {
    for (const auto& t : r.transfer.rows)
      if (field(r.transfer, t, "arch") == arch && field(r.transfer, t, "model_task") == task &&
          field(r.transfer, t, "layer") == layer && field(r.transfer, t, "target") == target &&
          field(r.transfer, t, "split") == split && field(r.transfer, t, "metric") == run_metric)
        return to_number(field(r.transfer, t, "mean")).value_or(NAN) * scale;
    return NAN;
  }
  if (quantity == "concat") {
    std::vector<double> values;
    for (const auto& t : r.concat.rows)
      if (field(r.concat, t, "arch") == arch && field(r.concat, t, "task") == task && field(r.concat, t, "layer") == layer &&
          field(r.concat, t, "added_set") == target && field(r.concat, t, "target") == "family" &&
          field(r.concat, t, "split") == split && field(r.concat, t, "metric") == run_metric)
        if (const auto v = to_number(field(r.concat, t, "value"))) values.push_back(*v * scale);
    return mean_of(values);
  }
  if (quantity == "similarity") {
    // Mean over seeds of CKA(arch seed s / layer, other arch seed s / layer), the paper's S2.
    std::vector<double> values;
    for (const auto& t : r.similarity.rows) {
      if (field(r.similarity, t, "split") != split || field(r.similarity, t, "measure") != metric) continue;
      const auto a = field(r.similarity, t, "set_a"), b = field(r.similarity, t, "set_b");
      const auto prefix_a = arch + "-" + task + "-s", prefix_b = target + "-" + task + "-s", suffix = "/" + layer;
      auto seed_of = [&](const std::string& set, const std::string& prefix) -> std::string {
        if (set.rfind(prefix, 0) != 0 || set.size() < suffix.size() || set.compare(set.size() - suffix.size(), suffix.size(), suffix) != 0)
          return "";
        return set.substr(prefix.size(), set.size() - suffix.size() - prefix.size());
      };
      const auto sa = seed_of(a, prefix_a), sb = seed_of(b, prefix_b);
      const auto ta = seed_of(a, prefix_b), tb = seed_of(b, prefix_a);
      if ((!sa.empty() && sa == sb) || (!ta.empty() && ta == tb))
        if (const auto v = to_number(field(r.similarity, t, "value"))) values.push_back(*v);
    }
    return mean_of(values);
  }
  return NAN;
}

}  // namespace

Table reproduction_table(const WorkPaths& paths) {
  RunResults r;
  r.transfer = optional_csv(paths.results() / "transfer.csv");
  r.concat = optional_csv(paths.results() / "concat.csv");
  r.similarity = optional_csv(paths.results() / "similarity.csv");
  if (fs::exists(paths.runs()))
    for (const auto& e : fs::directory_iterator(paths.runs())) {
      const auto history = e.path() / "history.csv";
      if (!fs::exists(history)) continue;
      const auto t = read_csv(history);
      if (t.rows.empty()) continue;
      const auto run = e.path().filename().string();  // <arch>-<task>-s<seed>
      auto& group = r.history_last[run.substr(0, run.rfind("-s"))];
      group.first = t.header;
      group.second.push_back(t.rows.back());
    }
  const auto ref = paper_results();
  Table out{{"quantity", "model (training task)", "layer", "what", "paper", "this run", "difference", "source"}, {}};
  for (const auto& row : ref.rows) {
    const double paper = to_number(field(ref, row, "paper_mean")).value_or(NAN);
    const auto sd = field(ref, row, "paper_sd");
    const double run = run_value(r, ref, row);
    const auto quantity = field(ref, row, "quantity");
    std::string what = field(ref, row, "target") + " " + field(ref, row, "split") + " " + field(ref, row, "metric");
    if (quantity == "similarity") what = "vs " + field(ref, row, "target") + " (" + field(ref, row, "split") + " " + field(ref, row, "metric") + ")";
    if (quantity == "concat") what = "+ " + field(ref, row, "target") + ": family test accuracy %";
    out.rows.push_back({quantity, field(ref, row, "arch") + " (" + field(ref, row, "model_task") + ")", field(ref, row, "layer"),
                        what, number(paper) + (sd.empty() ? "" : " \u00b1 " + number(to_number(sd).value_or(NAN), "%.2g")),
                        number(run), number(run - paper, "%+.3g"),
                        field(ref, row, "source")});
  }
  return out;
}

std::string reproduction_section(const WorkPaths& paths, const std::string& name, FigureWriter& figures) {
  const auto study = read_study_json(paths);
  const bool paper = name == "paper" ||
                     (study.is_object() && fs::path(study.value("config_file", std::string())).filename() == "paper.toml");
  if (!paper) return "";
  const auto table = reproduction_table(paths);
  std::size_t matched = 0;
  for (const auto& row : table.rows) matched += row[5].empty() ? 0 : 1;
  std::string h = "<h2>Reproduction at a glance</h2>\n<p>The paper's recorded results (reference-spec section 8, "
                  "compiled in from src/cfma/report/paper_results.csv) beside this run's, where the run has the "
                  "quantity (" + std::to_string(matched) + " of " + std::to_string(table.rows.size()) +
                  "; every row, layer by layer, in " + figures.add_table("reproduction", table) +
                  "). Training accuracy is the final epoch's, mean over seeds; probes are test values of the transfer "
                  "matrix; the paper's pitch and velocity network RMSE (8.3) was the last batch's and is left out. "
                  "A run on other data or at another scale differs by design.</p>\n";
  // Compact views: the networks, the probes at conv3 (one row per model), concatenation, S2.
  const auto paper_run = [](const std::vector<std::string>& row) {
    return row[5].empty() ? row[4] + " / \u2013" : row[4] + " / " + row[5] + " (" + row[6] + ")";
  };
  Table networks{{"architecture", "paper test accuracy % / this run (difference)"}, {}};
  Table probes{{"model (training task)", "family accuracy %", "pitch RMSE", "velocity RMSE"}, {}};
  Table concat{{"model + added set", "paper test accuracy % / this run (difference)"}, {}};
  Table archs{{"architectures", "paper CKA / this run (difference)"}, {}};
  std::map<std::string, std::size_t> probe_row;
  for (const auto& row : table.rows) {
    if (row[5].empty()) continue;
    const auto& quantity = row[0];
    if (quantity == "training" && row[3].find(" test ") != std::string::npos) networks.rows.push_back({row[1], paper_run(row)});
    if (quantity == "probe" && row[2] == "conv3" && row[7].rfind("8.5", 0) == 0) {
      if (!probe_row.count(row[1])) {
        probe_row[row[1]] = probes.rows.size();
        probes.rows.push_back({row[1], "", "", ""});
      }
      const std::size_t column = row[3].rfind("family", 0) == 0 ? 1 : row[3].rfind("pitch", 0) == 0 ? 2 : 3;
      probes.rows[probe_row[row[1]]][column] = paper_run(row);
    }
    if (quantity == "concat") concat.rows.push_back({row[1] + " " + row[3].substr(0, row[3].find(':')), paper_run(row)});
    if (quantity == "similarity") archs.rows.push_back({row[1] + " " + row[3], paper_run(row)});
  }
  for (const auto& [title, t] : std::vector<std::pair<std::string, Table*>>{
           {"Networks (8.1): family test accuracy", &networks},
           {"Transfer probes at conv3 (8.5): paper / this run (difference)", &probes},
           {"Concatenation to conv3 (8.6)", &concat},
           {"Architecture similarity at conv3 (8.7 S2, linear CKA, train)", &archs}})
    if (!t->rows.empty()) h += "<h3>" + escape_xml(title) + "</h3>\n" + table_html(*t);
  return h;
}

}  // namespace cfma::report
