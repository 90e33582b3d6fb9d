#pragma once
// Minimal CSV table for the report: header + rows of strings (cfma's own outputs: no quoting
// of separators needed beyond double quotes around a field).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cfma::report {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  // Column index by name, or -1.
  int column(const std::string& name) const;
};

Table read_csv(const std::filesystem::path& file);  // throws ReportError naming the file
// CSV text; lines starting with '#' are comments. Errors name `name`.
Table parse_csv(const std::string& text, const std::string& name);
std::optional<double> to_number(const std::string& field);

}  // namespace cfma::report
