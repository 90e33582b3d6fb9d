#pragma once
// HTML pieces of the report: tables from CSV tables, and figures written as SVG files beside
// index.html and referenced by <img>.
#include <cstddef>
#include <filesystem>
#include <string>

#include "cfma/report/csv.hpp"

namespace cfma::report {

// <table> of the header and the first `max_rows` rows; fields that are non-integer numbers are
// printed with 4 significant digits ("%.4g"), everything else escaped as is. A note after the
// table counts the rows left out.
std::string table_html(const Table& table, std::size_t max_rows = 200);

// Writes each figure as <dir>/<stem>.svg and returns its <img> element.
struct FigureWriter {
  std::filesystem::path dir;
  int figures = 0;  // written so far
  std::string add(const std::string& stem, const std::string& svg);
  // The figure and its data as <dir>/<stem>.csv (for replotting), linked under the figure.
  std::string add_with_data(const std::string& stem, const std::string& svg, const Table& data);
  // A table as <dir>/<stem>.csv; returns a link to it.
  std::string add_table(const std::string& stem, const Table& table);
};

// A table as CSV text (fields with a comma, quote or newline quoted, quotes doubled).
std::string to_csv(const Table& table);

}  // namespace cfma::report
