#include "cfma/report/csv.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include "cfma/core/error.hpp"

namespace cfma::report {

int Table::column(const std::string& name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

namespace {
std::vector<std::string> split_line(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(field);
      field.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  fields.push_back(field);
  return fields;
}
}  // namespace

namespace {
Table parse_lines(std::istream& in, const std::string& name, bool comments) {
  Table t;
  std::string line;
  std::size_t number = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || (comments && line[0] == '#')) continue;
    auto fields = split_line(line);
    if (!header) {
      t.header = std::move(fields);
      header = true;
      continue;
    }
    if (fields.size() != t.header.size())
      throw ReportError(name + ":" + std::to_string(number) + ": " + std::to_string(fields.size()) +
                        " fields, header has " + std::to_string(t.header.size()));
    t.rows.push_back(std::move(fields));
  }
  if (!header) throw ReportError(name + ": empty CSV");
  return t;
}
}  // namespace

Table read_csv(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw ReportError(file.string() + ": cannot open");
  return parse_lines(in, file.string(), false);
}

Table parse_csv(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  return parse_lines(in, name, true);
}

std::optional<double> to_number(const std::string& field) {
  double v = 0;
  const auto* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

}  // namespace cfma::report
