#include "cfma/report/html.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "cfma/core/atomic_file.hpp"
#include "cfma/par/test_fault.hpp"
#include "cfma/report/svg.hpp"

namespace cfma::report {

std::string table_html(const Table& t, std::size_t max_rows) {
  std::string h = "<table><tr>";
  for (const auto& c : t.header) h += "<th>" + escape_xml(c) + "</th>";
  h += "</tr>\n";
  for (std::size_t i = 0; i < t.rows.size() && i < max_rows; ++i) {
    h += "<tr>";
    for (const auto& f : t.rows[i]) {
      const auto v = to_number(f);
      char buf[32];
      if (v && std::floor(*v) != *v) std::snprintf(buf, sizeof buf, "%.4g", *v);
      h += "<td>" + (v && std::floor(*v) != *v ? std::string(buf) : escape_xml(f)) + "</td>";
    }
    h += "</tr>\n";
  }
  h += "</table>\n";
  if (t.rows.size() > max_rows) h += "<p>(" + std::to_string(t.rows.size() - max_rows) + " more rows in the CSV)</p>\n";
  return h;
}

std::string FigureWriter::add(const std::string& stem, const std::string& svg) {
  const std::string name = stem + ".svg";
  write_file(dir / name, svg);
  par::test_fault_point("report");
  ++figures;
  return "<img src='" + name + "' alt='" + escape_xml(stem) + "'>\n";
}

std::string to_csv(const Table& table) {
  auto field = [](const std::string& f) {
    if (f.find_first_of(",\"\n") == std::string::npos) return f;
    std::string q = "\"";
    for (const char c : f) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out += ',';
      out += field(row[i]);
    }
    out += '\n';
  };
  line(table.header);
  for (const auto& row : table.rows) line(row);
  return out;
}

std::string FigureWriter::add_with_data(const std::string& stem, const std::string& svg, const Table& data) {
  write_file(dir / (stem + ".csv"), to_csv(data));
  return "<figure>" + add(stem, svg) + "<figcaption><a href='" + escape_xml(stem) + ".csv'>data (CSV)</a></figcaption></figure>\n";
}

std::string FigureWriter::add_table(const std::string& stem, const Table& table) {
  write_file(dir / (stem + ".csv"), to_csv(table));
  return "<a href='" + escape_xml(stem) + ".csv'>" + escape_xml(stem) + ".csv</a>";
}

}  // namespace cfma::report
