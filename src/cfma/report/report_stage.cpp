#include "cfma/report/report_stage.hpp"

#include <fstream>
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
  const auto index = paths.report() / "index.html";
  const auto key = report_stage_key(paths, config);
  std::string error;
  if (comm.rank() == 0) {
    try {
      if (!force && is_up_to_date(index, key)) {
        spdlog::info("report: {} is up to date, skipped", index.string());
      } else {
        AtomicOutput out(paths.report(), std::to_string(::getpid()));
        fs::create_directories(out.temp_path());
        FigureWriter figures{out.temp_path()};
        std::ofstream(out.temp_path() / "index.html") << report_page(paths, name, config, figures);
        fs::remove_all(paths.report());
        out.commit();
        write_manifest(index, key, {{"figures", figures.figures}});
        spdlog::info("report: wrote {} ({} figures)", index.string(), figures.figures);
      }
    } catch (const Error& e) {
      error = e.what();
    }
  }
  par::check_all(comm, error);
}

}  // namespace cfma::report
