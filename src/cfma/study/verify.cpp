#include "cfma/study/verify.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/hash.hpp"
#include "cfma/report/csv.hpp"
#include "cfma/store/content_hash.hpp"
#include "cfma/study/study_manifest.hpp"

namespace cfma::study {
namespace fs = std::filesystem;
using nlohmann::json;

std::string to_string(Verdict v) {
  switch (v) {
    case Verdict::bit_equal: return "bit-equal";
    case Verdict::within_tolerance: return "within tolerance";
    case Verdict::different: return "DIFFERENT";
    case Verdict::missing: return "MISSING";
    case Verdict::not_compared: return "not compared";
  }
  return "?";
}

bool VerifyResult::ok() const {
  return std::none_of(rows.begin(), rows.end(), [](const Comparison& c) {
    return c.verdict == Verdict::different || c.verdict == Verdict::missing;
  });
}

bool within_tolerance(double a, double b) {
  if (a == b || (std::isnan(a) && std::isnan(b))) return true;
  if (!std::isfinite(a) || !std::isfinite(b)) return false;
  return std::abs(a - b) <= kTolerance * std::max({1.0, std::abs(a), std::abs(b)});
}

namespace {

// Run metadata no result depends on.
const std::set<std::string>& metadata_fields() {
  // Solver diagnostics too: a probe's iteration count follows its input's last bits, its
  // result is compared.
  static const std::set<std::string> fields = {"seconds", "wall_s", "ranks", "threads", "written", "written_ns",
                                               "iterations", "evaluations"};
  return fields;
}

const std::vector<std::string>& stage_order() {
  static const std::vector<std::string> order = {"preprocess", "train", "extract", "probe", "similarity", "report"};
  return order;
}

fs::path workdir_of(const fs::path& study) { return fs::is_directory(study) ? study : study.parent_path(); }

std::string with_workdir_named(std::string s, const fs::path& workdir) {
  for (const auto& w : {fs::absolute(workdir).lexically_normal().string(), workdir.string()}) {
    if (w.empty() || w == ".") continue;
    for (auto pos = s.find(w); pos != std::string::npos; pos = s.find(w, pos + 9)) s.replace(pos, w.size(), "<workdir>");
  }
  return s;
}

// The largest violation seen so far, by its ratio to the tolerance.
struct Worst {
  double ratio = 0;  // |a - b| / max(1, |a|, |b|)
  std::string where;
  bool mismatch = false;  // a non-numeric difference (always different)
  void number(double a, double b, const std::string& at) {
    if (a == b || (std::isnan(a) && std::isnan(b))) return;
    const double r = std::isfinite(a) && std::isfinite(b) ? std::abs(a - b) / std::max({1.0, std::abs(a), std::abs(b)}) : INFINITY;
    if (r > ratio) ratio = r, where = fmt::format("{}: {:.10g} vs {:.10g}", at, a, b);
  }
  void text(const std::string& at, const std::string& a, const std::string& b) {
    if (!mismatch) where = at + ": '" + a + "' vs '" + b + "'";
    mismatch = true;
  }
  double tolerance = kTolerance;
  Comparison verdict(Comparison c) const {
    if (mismatch || ratio > tolerance) {
      c.verdict = Verdict::different;
      c.detail = mismatch ? where : fmt::format("largest relative difference {:.3g} at {}", ratio, where);
    } else if (ratio > 0) {
      c.verdict = Verdict::within_tolerance;
      c.detail = fmt::format("largest relative difference {:.3g} at {}", ratio, where);
    } else {
      // Every value equal; the bytes differ only in run metadata (wall seconds, rank count).
      c.verdict = Verdict::bit_equal;
      c.detail = "values bit-equal; run metadata differs";
    }
    return c;
  }
};

Comparison compare_csv(Comparison c, const fs::path& a, const fs::path& b, const fs::path& wa, const fs::path& wb) {
  const auto ta = report::read_csv(a), tb = report::read_csv(b);
  Worst worst;
  if (ta.header != tb.header) worst.text("header", fmt::format("{}", fmt::join(ta.header, ",")), fmt::format("{}", fmt::join(tb.header, ",")));
  else if (ta.rows.size() != tb.rows.size()) worst.text("rows", std::to_string(ta.rows.size()), std::to_string(tb.rows.size()));
  else
    for (std::size_t r = 0; r < ta.rows.size(); ++r)
      for (std::size_t k = 0; k < ta.header.size(); ++k) {
        if (metadata_fields().count(ta.header[k])) continue;
        const auto fa = k < ta.rows[r].size() ? ta.rows[r][k] : "", fb = k < tb.rows[r].size() ? tb.rows[r][k] : "";
        const auto at = fmt::format("row {} ({}) column {}", r + 1, ta.rows[r].empty() ? "" : ta.rows[r][0], ta.header[k]);
        const auto na = report::to_number(fa), nb = report::to_number(fb);
        if (na && nb) worst.number(*na, *nb, at);
        else if (with_workdir_named(fa, wa) != with_workdir_named(fb, wb)) worst.text(at, fa, fb);
      }
  return worst.verdict(std::move(c));
}

void compare_json(const json& a, const json& b, const std::string& at, const fs::path& wa, const fs::path& wb, Worst& worst) {
  if (a.is_number() && b.is_number()) return worst.number(a.get<double>(), b.get<double>(), at);
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : a.items()) keys.insert(k);
    for (const auto& [k, v] : b.items()) keys.insert(k);
    for (const auto& k : keys) {
      if (metadata_fields().count(k)) continue;
      if (!a.contains(k) || !b.contains(k)) worst.text(at + "/" + k, a.contains(k) ? "present" : "absent", b.contains(k) ? "present" : "absent");
      else compare_json(a[k], b[k], at + "/" + k, wa, wb, worst);
    }
    return;
  }
  if (a.is_array() && b.is_array()) {
    if (a.size() != b.size()) return worst.text(at, std::to_string(a.size()) + " items", std::to_string(b.size()) + " items");
    for (std::size_t i = 0; i < a.size(); ++i) compare_json(a[i], b[i], at + "/" + std::to_string(i), wa, wb, worst);
    return;
  }
  const auto sa = a.is_string() ? a.get<std::string>() : a.dump(), sb = b.is_string() ? b.get<std::string>() : b.dump();
  if (with_workdir_named(sa, wa) != with_workdir_named(sb, wb)) worst.text(at.empty() ? "/" : at, sa, sb);
}

Comparison compare_hdf5(Comparison c, const fs::path& a, const fs::path& b, const json& ra, const json& rb) {
  const auto fa = store::File::open_serial(a), fb = store::File::open_serial(b);
  const auto da = ra.value("datasets", json::object()), db = rb.value("datasets", json::object());
  Worst worst;
  worst.tolerance = kDatasetTolerance;
  double worst_ratio = 0;
  for (const auto& [name, hash] : da.items()) {
    if (!db.contains(name)) {
      worst.text("dataset " + name, "present", "absent");
      continue;
    }
    if (db[name] == hash) continue;
    const auto d = store::compare_datasets(fa, fb, name);
    if (!d.comparable) {
      worst.text("dataset " + name, d.why, "(values differ)");
      continue;
    }
    const double ratio = d.max_abs / std::max(1.0, d.scale);
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      worst.ratio = ratio;
      worst.where = fmt::format("dataset {} row {}: |difference| {:.3g} (largest |value| {:.4g})", name, d.row, d.max_abs, d.scale);
    }
  }
  for (const auto& [name, hash] : db.items())
    if (!da.contains(name)) worst.text("dataset " + name, "absent", "present");
  if (!worst.mismatch && worst.ratio == 0) worst.text("attributes", "differ", "(every dataset is equal)");
  return worst.verdict(std::move(c));
}

Comparison compare_output(Comparison c, const fs::path& wa, const fs::path& wb, const json& ra, const json& rb) {
  const auto a = wa / c.output, b = wb / c.output;
  for (const auto& [file, record] : {std::pair{a, ra}, std::pair{b, rb}})
    if (!fs::exists(file)) {
      c.verdict = Verdict::missing;
      c.detail = file.string() + ": recorded in the study but gone";
      return c;
    }
  try {
    const auto ext = a.extension();
    if (ext == ".h5") return compare_hdf5(std::move(c), a, b, ra, rb);
    if (ext == ".csv") return compare_csv(std::move(c), a, b, wa, wb);
    if (ext == ".json") {
      Worst worst;
      compare_json(json::parse(read_file(a)), json::parse(read_file(b)), "", wa, wb, worst);
      return worst.verdict(std::move(c));
    }
  } catch (const std::exception& e) {
    c.verdict = Verdict::different;
    c.detail = std::string("cannot compare: ") + e.what();
    return c;
  }
  c.verdict = Verdict::different;
  c.detail = "content differs (" + ra.value("hash", "") + " vs " + rb.value("hash", "") + "; compared bit for bit only)";
  return c;
}

std::vector<std::string> union_keys(const json& a, const json& b) {
  std::set<std::string> keys;
  for (const auto* j : {&a, &b})
    if (j->is_object())
      for (const auto& [k, v] : j->items()) keys.insert(k);
  return {keys.begin(), keys.end()};
}

void compare_inputs(const json& a, const json& b, VerifyResult& result) {
  if (!a.is_object() && !b.is_object()) return;
  for (const char* group : {"index_files", "audio"}) {
    const auto ga = a.is_object() ? a.value(group, json::object()) : json::object();
    const auto gb = b.is_object() ? b.value(group, json::object()) : json::object();
    std::size_t equal = 0;
    for (const auto& name : union_keys(ga, gb)) {
      Comparison c{"inputs", "inputs/" + name, Verdict::bit_equal, ""};
      if (!ga.contains(name) || !gb.contains(name)) {
        c.verdict = Verdict::missing;
        c.detail = std::string("only in study ") + (ga.contains(name) ? "A" : "B");
      } else if (ga[name] != gb[name]) {
        c.verdict = Verdict::different;
        c.detail = "content differs (" + ga[name].get<std::string>() + " vs " + gb[name].get<std::string>() + ")";
      } else {
        ++equal;
        continue;  // equal inputs are summarised in one row
      }
      result.rows.push_back(std::move(c));
    }
    if (equal) result.rows.push_back({"inputs", std::string("inputs: ") + std::to_string(equal) + (group == std::string("audio") ? " wav files" : " index files"),
                                      Verdict::bit_equal, ""});
  }
}

}  // namespace

VerifyResult verify_studies(const fs::path& a, const fs::path& b) {
  const auto sa = read_study(a), sb = read_study(b);
  const auto wa = workdir_of(a), wb = workdir_of(b);
  VerifyResult result;
  compare_inputs(sa.value("inputs", json()), sb.value("inputs", json()), result);
  const auto stages_a = sa["stages"], stages_b = sb["stages"];
  auto stages = union_keys(stages_a, stages_b);
  std::stable_sort(stages.begin(), stages.end(), [](const std::string& x, const std::string& y) {
    const auto& o = stage_order();
    return std::find(o.begin(), o.end(), x) - o.begin() < std::find(o.begin(), o.end(), y) - o.begin();
  });
  for (const auto& stage : stages) {
    const auto oa = stages_a.contains(stage) ? stages_a[stage].value("outputs", json::object()) : json::object();
    const auto ob = stages_b.contains(stage) ? stages_b[stage].value("outputs", json::object()) : json::object();
    for (const auto& output : union_keys(oa, ob)) {
      Comparison c{stage, output, Verdict::bit_equal, ""};
      if (!oa.contains(output) || !ob.contains(output)) {
        c.verdict = Verdict::missing;
        c.detail = std::string("only in study ") + (oa.contains(output) ? "A" : "B");
      } else if (stage == "report") {
        c.verdict = Verdict::not_compared;
        c.detail = "presentation (names paths and times)";
      } else if (!fs::exists(wa / output) || !fs::exists(wb / output)) {
        c.verdict = Verdict::missing;
        c.detail = (fs::exists(wa / output) ? wb : wa).string() + "/" + output + ": recorded in the study but gone";
      } else {
        // The files as they are now, not as recorded: a file changed after its stage wrote it
        // is never passed as equal.
        const auto now_a = hash_output(wa / output), now_b = hash_output(wb / output);
        std::string changed;
        for (const auto& [name, now, recorded] : {std::tuple{"A", &now_a, &oa[output]}, std::tuple{"B", &now_b, &ob[output]}})
          if ((*now)["hash"] != (*recorded)["hash"]) changed += std::string(changed.empty() ? "" : ", ") + "study " + name;
        if (now_a["hash"] != now_b["hash"]) c = compare_output(std::move(c), wa, wb, now_a, now_b);
        if (!changed.empty()) {
          c.verdict = Verdict::different;
          c.detail = "changed since it was written (" + changed + ")" + (c.detail.empty() ? "" : "; " + c.detail);
        }
      }
      result.rows.push_back(std::move(c));
    }
  }
  return result;
}

VerifyResult verify_study(const fs::path& study_path) {
  const auto study = read_study(study_path);
  const auto workdir = workdir_of(study_path);
  VerifyResult result;
  if (const auto inputs = study.value("inputs", json()); inputs.is_object()) {
    const fs::path root = inputs.value("data_root", "");
    std::size_t equal = 0;
    for (const char* group : {"index_files", "audio"}) {
      const auto files = inputs.value(group, json::object());  // named: items() does not keep it alive
      for (const auto& [name, hash] : files.items()) {
        Comparison c{"inputs", "inputs/" + name, Verdict::bit_equal, ""};
        const auto file = root / name;
        if (!fs::exists(file)) {
          c.verdict = Verdict::missing;
          c.detail = file.string() + ": gone";
        } else if (const auto now = hash_file(file); now != hash.get<std::string>()) {
          c.verdict = Verdict::different;
          c.detail = file.string() + ": changed since the study read it (" + hash.get<std::string>() + ", now " + now + ")";
        } else {
          ++equal;
          continue;
        }
        result.rows.push_back(std::move(c));
      }
    }
    if (equal) result.rows.push_back({"inputs", "inputs: " + std::to_string(equal) + " files", Verdict::bit_equal, ""});
  }
  for (const auto& [stage, record] : study["stages"].items()) {
    const auto outputs = record.value("outputs", json::object());
    for (const auto& [output, recorded] : outputs.items()) {
      Comparison c{stage, output, Verdict::bit_equal, ""};
      const auto file = workdir / output;
      if (!fs::exists(file)) {
        c.verdict = Verdict::missing;
        c.detail = file.string() + ": gone";
      } else {
        try {
          const auto now = hash_output(file);
          if (now["hash"] != recorded["hash"]) {
            c.verdict = Verdict::different;
            c.detail = file.string() + ": changed since it was written (" + recorded.value("hash", "") + ", now " +
                       now["hash"].get<std::string>() + ")";
          }
        } catch (const std::exception& e) {
          c.verdict = Verdict::different;
          c.detail = std::string("cannot re-hash: ") + e.what();
        }
      }
      result.rows.push_back(std::move(c));
    }
  }
  return result;
}

std::string format_result(const VerifyResult& result) {
  std::size_t width_stage = 5, width_output = 6;
  for (const auto& r : result.rows) width_stage = std::max(width_stage, r.stage.size()), width_output = std::max(width_output, r.output.size());
  std::string out = fmt::format("{:<16}  {:<{}}  {:<{}}  {}\n", "verdict", "stage", width_stage, "output", width_output, "detail");
  std::map<Verdict, std::size_t> counts;
  for (const auto& r : result.rows) {
    ++counts[r.verdict];
    out += fmt::format("{:<16}  {:<{}}  {:<{}}  {}\n", to_string(r.verdict), r.stage, width_stage, r.output, width_output, r.detail);
  }
  std::string summary;
  for (const auto& [v, n] : counts) summary += (summary.empty() ? "" : ", ") + std::to_string(n) + " " + to_string(v);
  const auto failed = counts[Verdict::different] + counts[Verdict::missing];
  out += result.ok() ? "verify: every output agrees (" + summary + ")\n"
                     : "verify: " + std::to_string(failed) + " outputs differ or are missing (" + summary + ")\n";
  return out;
}

}  // namespace cfma::study
