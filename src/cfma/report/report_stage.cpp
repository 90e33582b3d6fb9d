#include "cfma/report/report_stage.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/error.hpp"
#include "cfma/par/world.hpp"
#include "cfma/report/page.hpp"

namespace cfma::report {
namespace fs = std::filesystem;

StageKey report_stage_key(const WorkPaths& paths, const ReportConfig& config) {
  nlohmann::json inputs = nlohmann::json::object();
  for (const auto& p : {paths.features(), paths.results() / "probes.csv", paths.results() / "similarity.csv"})
    if (fs::exists(p)) inputs[p.filename().string()] = output_fingerprint(p);
  if (fs::exists(paths.runs()))
    for (const auto& e : fs::directory_iterator(paths.runs()))
      if (fs::exists(e.path() / "history.csv")) inputs[e.path().filename().string()] = output_fingerprint(e.path() / "history.csv");
  return StageKey{"report", to_json(config), inputs};
}

void run_report_stage(const boost::mpi::communicator& comm, const WorkPaths& paths, const std::string& name,
                      const ReportConfig& config, bool force) {
  // The report is written by rank 0 alone; every rank learns the outcome.
  par::on_root(comm, [&] {
    const auto index = paths.report() / "index.html";
    const auto key = report_stage_key(paths, config);
    if (!force && is_up_to_date(index, key)) {
      spdlog::info("report: {} is up to date, skipped", index.string());
      return;
    }
    const auto tag = std::to_string(::getpid());
    AtomicOutput out(paths.report(), tag);
    fs::create_directories(out.temp_path());
    FigureWriter figures{out.temp_path()};
    write_file(out.temp_path() / "index.html", report_page(paths, name, config, figures));
    // The previous report stays in place until the new one is complete: moved aside, replaced,
    // then removed (a directory cannot be renamed over a non-empty one).
    auto previous = paths.report();
    previous += ".old-" + tag;
    if (fs::exists(paths.report())) fs::rename(paths.report(), previous);
    try {
      out.commit();
    } catch (...) {
      std::error_code ignored;
      if (fs::exists(previous)) fs::rename(previous, paths.report(), ignored);
      throw;
    }
    fs::remove_all(previous);
    write_manifest(index, key, {{"figures", figures.figures}});
    spdlog::info("report: wrote {} ({} figures)", index.string(), figures.figures);
  });
}

}  // namespace cfma::report
