#pragma once
// [report]: what the HTML report shows.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "cfma/core/config.hpp"

namespace cfma::report {

struct ReportConfig {
  int spectrograms = 8;          // example spectrograms shown (one per family, first ones)
  int max_annotated_cells = 15;  // heat maps with at most this many columns are annotated
  // A heat map with more cells is left out with a note pointing to results/similarity.csv (the
  // paper's study has ~640 sets: one all-pairs figure would be 400,000 cells, ~300 MB of SVG).
  std::int64_t max_heatmap_cells = 40000;
};

ReportConfig parse_report_config(const ConfigDoc& doc);
nlohmann::json to_json(const ReportConfig& config);  // hashed into the report's stage key

}  // namespace cfma::report
