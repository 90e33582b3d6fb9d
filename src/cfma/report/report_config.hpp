#pragma once
// [report]: what the HTML report shows.
#include <nlohmann/json.hpp>

#include "cfma/core/config.hpp"

namespace cfma::report {

struct ReportConfig {
  int spectrograms = 4;          // example spectrograms shown (one per family, first ones)
  int max_annotated_cells = 15;  // heat maps with at most this many columns are annotated
};

ReportConfig parse_report_config(const ConfigDoc& doc);
nlohmann::json to_json(const ReportConfig& config);  // hashed into the report's stage key

}  // namespace cfma::report
