#pragma once
// report/index.html, section by section, from every stage's outputs found in the workdir:
// dataset and spectrograms (features.h5), training curves (runs/*/history.csv), probe tables
// (results/transfer.csv, concat.csv), similarity heat maps (results/similarity.csv). A stage
// that did not run is listed as missing, not invented.
#include <string>
#include <vector>

#include "cfma/core/paths.hpp"
#include "cfma/report/html.hpp"
#include "cfma/report/report_config.hpp"

namespace cfma::report {

// The paper's annotated view (spec 2.5): its "top-5" hand-crafted sets (Mean Power, Time to
// -70 dB, Mean Wavelet-25, Wavelets Combined-25, Top Combined) and the Random baseline.
const std::vector<std::string>& paper_top5_sets();

std::string dataset_section(const WorkPaths& paths, const ReportConfig& config, FigureWriter& figures);
std::string training_section(const WorkPaths& paths, FigureWriter& figures);
std::string probe_section(const WorkPaths& paths);
// Per split and measure: layers x every set, and layers x paper_top5_sets() when that is a
// proper subset. Throws ReportError when similarity.csv lacks a column.
std::string similarity_section(const WorkPaths& paths, const ReportConfig& config, FigureWriter& figures);

// The whole page, titled with the run's `name`; figures go to `figures.dir`.
std::string report_page(const WorkPaths& paths, const std::string& name, const ReportConfig& config,
                        FigureWriter& figures);

}  // namespace cfma::report
