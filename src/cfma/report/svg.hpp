#pragma once
// Figures as standalone SVG text (no plotting library exists in C++ on Debian; these three
// chart types are all the report needs).
#include <string>
#include <vector>

namespace cfma::report {

struct Heatmap {
  std::string title;
  std::vector<std::string> row_labels, col_labels;
  std::vector<double> values;  // rows x cols, row-major; NaN = missing
  double vmin = 0, vmax = 1;
  bool annotate = true;        // print values (2 decimals) in cells
};
std::string heatmap_svg(const Heatmap& h);

struct Series {
  std::string name;
  std::vector<double> x, y;
  std::vector<double> error;  // optional +- bars (same size as y)
};
struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
};
std::string line_chart_svg(const LineChart& c);

// A matrix as an image (e.g. a mel spectrogram), low rows at the bottom, viridis-like colours.
std::string image_svg(const std::string& title, const std::vector<float>& values, int rows, int cols,
                      int pixel = 2);

std::string escape_xml(const std::string& s);

}  // namespace cfma::report
