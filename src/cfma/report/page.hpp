#pragma once
// report/index.html, section by section, from every stage's outputs found in the workdir:
// dataset and spectrograms (features.h5), training curves and confusion matrices
// (runs/*/history.csv, confusion.csv), probe curves and tables
// (results/transfer.csv, concat.csv), similarity heat maps (results/similarity.csv). A stage
// that did not run is listed as missing, not invented.
#include <string>
#include <vector>

#include "cfma/core/paths.hpp"
#include "cfma/report/html.hpp"
#include "cfma/report/report_config.hpp"
#include "cfma/report/similarity_views.hpp"
#include "cfma/report/summary.hpp"
#include "cfma/report/svg.hpp"

namespace cfma::report {

std::string dataset_section(const WorkPaths& paths, const ReportConfig& config, FigureWriter& figures);
std::string training_section(const WorkPaths& paths, FigureWriter& figures);
// A run's confusion.csv (counts, "true\\predicted" header, class names) as a heat map of each
// row's shares, class names on both axes; the counts go beside it as the figure's data.
Heatmap confusion_heatmap(const Table& counts, const std::string& run);
// The paper's Analyze-Classification figures: per target (family and pitch_class test
// accuracy, pitch and velocity test RMSE), score vs layer from transfer.csv, one line per
// architecture and training task (untrained twins included; +- sd over seeds), with chance,
// noise and input (baselines.csv) and the best hand-crafted set (probes.csv) as reference
// lines; `data` holds every plotted value (series,layer,mean,sd,seeds). Throws ReportError when
// transfer.csv lacks a column; none without transfer.csv.
struct ProbeCurve {
  std::string target, metric;
  LineChart chart;
  Table data{{"series", "layer", "mean", "sd", "seeds"}, {}};
};
std::vector<ProbeCurve> probe_curves(const WorkPaths& paths);
// The transfer matrix as compact tables, one per target (family and pitch_class accuracy,
// pitch and velocity RMSE, selectivities): rows model (training task), columns layers, cells
// "mean ± sd" (the sd left out for one seed), test split.
std::vector<std::pair<std::string, Table>> transfer_tables(const WorkPaths& paths);
// The concatenation experiment as one table: rows model (training task) and layer, columns the
// added sets, cells family test accuracy mean ± sd over seeds (concat.csv).
Table concat_table(const WorkPaths& paths);
// The probe curves (each with its CSV), the compact transfer tables and the concatenation table
// (each also as CSV), links to the long CSVs.
std::string probe_section(const WorkPaths& paths, FigureWriter& figures);

// The whole page, titled with the run's `name`; figures go to `figures.dir`.
std::string report_page(const WorkPaths& paths, const std::string& name, const ReportConfig& config,
                        FigureWriter& figures);

}  // namespace cfma::report
