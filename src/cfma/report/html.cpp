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

}  // namespace cfma::report
