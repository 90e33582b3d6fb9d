#include "cfma/report/svg.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace cfma::report {

std::string escape_xml(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

// Piecewise-linear approximation of matplotlib's viridis (5 anchors).
std::string colour(double t) {
  static const std::array<std::array<double, 3>, 5> anchors = {{{68, 1, 84}, {59, 82, 139}, {33, 145, 140},
                                                                 {94, 201, 98}, {253, 231, 37}}};
  if (!std::isfinite(t)) return "#dddddd";
  t = std::clamp(t, 0.0, 1.0) * 4.0;
  const int i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x",
                static_cast<int>(anchors[static_cast<std::size_t>(i)][0] * (1 - f) + anchors[static_cast<std::size_t>(i + 1)][0] * f),
                static_cast<int>(anchors[static_cast<std::size_t>(i)][1] * (1 - f) + anchors[static_cast<std::size_t>(i + 1)][1] * f),
                static_cast<int>(anchors[static_cast<std::size_t>(i)][2] * (1 - f) + anchors[static_cast<std::size_t>(i + 1)][2] * f));
  return buf;
}

std::string fmt(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

std::string heatmap_svg(const Heatmap& h) {
  const int rows = static_cast<int>(h.row_labels.size()), cols = static_cast<int>(h.col_labels.size());
  const int cell = cols > 12 ? 22 : 44, left = 190, top = 40, bottom = 170;
  const int width = left + cols * cell + 20, height = top + rows * cell + bottom;
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
    << "' font-family='sans-serif' font-size='11'>\n";
  s << "<text x='" << left << "' y='20' font-size='14'>" << escape_xml(h.title) << "</text>\n";
  for (int r = 0; r < rows; ++r) {
    s << "<text x='" << left - 6 << "' y='" << top + r * cell + cell / 2 + 4 << "' text-anchor='end'>"
      << escape_xml(h.row_labels[static_cast<std::size_t>(r)]) << "</text>\n";
    for (int c = 0; c < cols; ++c) {
      const double v = h.values[static_cast<std::size_t>(r * cols + c)];
      const double t = (v - h.vmin) / (h.vmax - h.vmin);
      s << "<rect x='" << left + c * cell << "' y='" << top + r * cell << "' width='" << cell << "' height='"
        << cell << "' fill='" << colour(t) << "'><title>" << escape_xml(h.row_labels[static_cast<std::size_t>(r)])
        << " / " << escape_xml(h.col_labels[static_cast<std::size_t>(c)]) << ": " << fmt(v, 4) << "</title></rect>\n";
      if (h.annotate && std::isfinite(v))
        s << "<text x='" << left + c * cell + cell / 2 << "' y='" << top + r * cell + cell / 2 + 4
          << "' text-anchor='middle' fill='" << (t > 0.6 ? "#000" : "#fff") << "'>" << fmt(v, 2) << "</text>\n";
    }
  }
  for (int c = 0; c < cols; ++c) {
    const int x = left + c * cell + cell / 2, y = top + rows * cell + 8;
    s << "<text transform='translate(" << x << "," << y << ") rotate(60)'>"
      << escape_xml(h.col_labels[static_cast<std::size_t>(c)]) << "</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

std::string line_chart_svg(const LineChart& c) {
  const int width = 560, height = 320, left = 60, right = 150, top = 30, bottom = 45;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : c.series)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      const double e = s.error.empty() ? 0.0 : s.error[i];
      if (!std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i] - e), y1 = std::max(y1, s.y[i] + e);
    }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y1 = y0 + 1;
  const double pw = width - left - right, ph = height - top - bottom;
  const auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
  const auto py = [&](double y) { return top + (1 - (y - y0) / (y1 - y0)) * ph; };
  static const std::array<const char*, 8> palette = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                     "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
    << "' font-family='sans-serif' font-size='11'>\n";
  s << "<text x='" << left << "' y='18' font-size='13'>" << escape_xml(c.title) << "</text>\n";
  s << "<rect x='" << left << "' y='" << top << "' width='" << pw << "' height='" << ph
    << "' fill='none' stroke='#888'/>\n";
  for (int k = 0; k <= 4; ++k) {
    const double yv = y0 + (y1 - y0) * k / 4.0, xv = x0 + (x1 - x0) * k / 4.0;
    s << "<text x='" << left - 4 << "' y='" << py(yv) + 4 << "' text-anchor='end'>" << fmt(yv, 2) << "</text>\n";
    s << "<text x='" << px(xv) << "' y='" << top + ph + 14 << "' text-anchor='middle'>" << fmt(xv, 0) << "</text>\n";
  }
  s << "<text x='" << left + pw / 2 << "' y='" << height - 8 << "' text-anchor='middle'>" << escape_xml(c.x_label) << "</text>\n";
  s << "<text transform='translate(14," << top + ph / 2 << ") rotate(-90)' text-anchor='middle'>"
    << escape_xml(c.y_label) << "</text>\n";
  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const auto& ser = c.series[k];
    const char* col = palette[k % palette.size()];
    s << "<polyline fill='none' stroke='" << col << "' stroke-width='1.5' points='";
    for (std::size_t i = 0; i < ser.x.size(); ++i)
      if (std::isfinite(ser.y[i])) s << px(ser.x[i]) << "," << py(ser.y[i]) << " ";
    s << "'/>\n";
    for (std::size_t i = 0; i < ser.error.size() && i < ser.x.size(); ++i)
      s << "<line x1='" << px(ser.x[i]) << "' x2='" << px(ser.x[i]) << "' y1='" << py(ser.y[i] - ser.error[i])
        << "' y2='" << py(ser.y[i] + ser.error[i]) << "' stroke='" << col << "'/>\n";
    s << "<text x='" << left + pw + 8 << "' y='" << top + 14 * (k + 1) << "' fill='" << col << "'>"
      << escape_xml(ser.name) << "</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

std::string image_svg(const std::string& title, const std::vector<float>& values, int rows, int cols, int pixel) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (const float v : values) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(hi > lo)) hi = lo + 1;
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << cols * pixel << "' height='" << rows * pixel + 20
    << "' font-family='sans-serif' font-size='11' shape-rendering='crispEdges'>\n";
  s << "<text x='0' y='13'>" << escape_xml(title) << "</text>\n";
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const float v = values[static_cast<std::size_t>(r * cols + c)];
      s << "<rect x='" << c * pixel << "' y='" << 20 + (rows - 1 - r) * pixel << "' width='" << pixel
        << "' height='" << pixel << "' fill='" << colour((v - lo) / (hi - lo)) << "'/>";
    }
  s << "\n</svg>\n";
  return s.str();
}

}  // namespace cfma::report
