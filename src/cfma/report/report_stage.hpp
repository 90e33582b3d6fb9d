#pragma once
// The report stage (rank 0): workdir/report/ = index.html + one SVG per figure (page.hpp),
// built under a temporary directory and renamed into place, then
// report/index.html.manifest.json. Skipped when the manifest has this stage key: the
// [report] config and the fingerprints of features.h5, probes.csv, similarity.csv and every
// run's history.csv that exist.
#include <string>

#include <boost/mpi/communicator.hpp>

#include "cfma/core/manifest.hpp"
#include "cfma/core/paths.hpp"
#include "cfma/report/report_config.hpp"

namespace cfma::report {

StageKey report_stage_key(const WorkPaths& paths, const ReportConfig& config);

// Collective (the work is on rank 0; its error is thrown on every rank). `name` is [run].name.
void run_report_stage(const boost::mpi::communicator& comm, const WorkPaths& paths, const std::string& name,
                      const ReportConfig& config, bool force);

}  // namespace cfma::report
