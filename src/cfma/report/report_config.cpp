#include "cfma/report/report_config.hpp"

namespace cfma::report {

ReportConfig parse_report_config(const ConfigDoc& doc) {
  const auto s = doc.section("report");
  ReportConfig c;
  c.spectrograms = static_cast<int>(s.get_int("spectrograms", c.spectrograms, between(0, 64)));
  c.max_annotated_cells = static_cast<int>(s.get_int("max_annotated_cells", c.max_annotated_cells, between(0, 1000)));
  c.max_heatmap_cells = s.get_int("max_heatmap_cells", c.max_heatmap_cells, between(1, 1e8));
  return c;
}

nlohmann::json to_json(const ReportConfig& config) {
  return {{"spectrograms", config.spectrograms}, {"max_annotated_cells", config.max_annotated_cells},
          {"max_heatmap_cells", config.max_heatmap_cells}};
}

}  // namespace cfma::report
