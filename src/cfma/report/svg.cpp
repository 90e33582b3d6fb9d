#include "cfma/report/svg.hpp"

#include "cfma/dsp/mel.hpp"

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

std::string fmt(double v, int decimals);

}  // namespace

// Piecewise-linear approximation of matplotlib's viridis (5 anchors).
std::string scale_colour(double t) {
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

namespace {

std::string colour(double t) { return scale_colour(t); }

std::string fmt(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

std::string heatmap_svg(const Heatmap& h) {
  const int rows = static_cast<int>(h.row_labels.size()), cols = static_cast<int>(h.col_labels.size());
  const int cell = cols > 12 ? 22 : 44, left = 190, top = 40, bottom = 170, bar = 70;
  // Wide enough for the cells, the colour bar and the title (about 7.5 px per character at 14 px).
  const int title_width = 10 + static_cast<int>(7.5 * static_cast<double>(h.title.size()));
  const int width = std::max(left + cols * cell + bar + 20, title_width + 10), height = top + rows * cell + bottom;
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
    << "' font-family='sans-serif' font-size='11'>\n";
  s << "<text x='10' y='20' font-size='14'>" << escape_xml(h.title) << "</text>\n";
  // Colour bar: 20 steps from vmin (bottom) to vmax (top), beside the cells.
  const int bar_x = left + cols * cell + 14, bar_h = std::max(rows * cell, 100);
  for (int k = 0; k < 20; ++k)
    s << "<rect class='scale' x='" << bar_x << "' y='" << top + bar_h - (k + 1) * bar_h / 20 << "' width='14' height='"
      << bar_h / 20 + 1 << "' fill='" << colour((k + 0.5) / 20.0) << "'/>\n";
  for (const auto& [t, v] : {std::pair{0.0, h.vmin}, std::pair{0.5, 0.5 * (h.vmin + h.vmax)}, std::pair{1.0, h.vmax}})
    s << "<text class='scale-label' x='" << bar_x + 18 << "' y='" << top + bar_h - static_cast<int>(t * bar_h) + 4 << "'>"
      << fmt(v, 2) << "</text>\n";
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

std::pair<double, double> y_range(const LineChart& c) {
  double y0 = std::numeric_limits<double>::infinity(), y1 = -y0;
  for (const auto& s : c.series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      const double e = i < s.error.size() && std::isfinite(s.error[i]) ? s.error[i] : 0.0;
      y0 = std::min(y0, s.y[i] - e), y1 = std::max(y1, s.y[i] + e);
    }
  for (const auto& r : c.references)
    if (std::isfinite(r.y)) y0 = std::min(y0, r.y), y1 = std::max(y1, r.y);
  if (!std::isfinite(y0)) return {0.0, 1.0};
  if (y1 == y0) return {y0 - 0.5, y0 + 0.5};
  return {y0, y1};
}

std::string line_chart_svg(const LineChart& c) {
  // Tall enough for the legend (one 14 px line per series and reference line).
  const int legend_lines = static_cast<int>(c.series.size() + c.references.size());
  const int width = 680, left = 60, right = 250, top = 30, bottom = 60;
  const int height = std::max(340, top + 14 * (legend_lines + 1) + 10);
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0;
  for (const auto& s : c.series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (std::isfinite(s.y[i])) x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
  if (!c.x_ticks.empty()) x0 = 0, x1 = static_cast<double>(c.x_ticks.size() - 1);
  if (!std::isfinite(x0)) x0 = 0, x1 = 1;
  if (x1 == x0) x0 -= 0.5, x1 += 0.5;
  const auto [y0, y1] = y_range(c);
  // The plot keeps its 250 px height; a long legend extends the figure below it. Categorical
  // x positions sit half a step inside the frame, so the end labels are not cut.
  const double pw = width - left - right, ph = 340 - top - bottom;
  const double pad = c.x_ticks.empty() ? 0.0 : 0.5;
  const auto px = [&](double x) { return left + (x - x0 + pad) / (x1 - x0 + 2 * pad) * pw; };
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
    const double yv = y0 + (y1 - y0) * k / 4.0;
    s << "<text class='y-tick' x='" << left - 4 << "' y='" << py(yv) + 4 << "' text-anchor='end'>" << fmt(yv, 2)
      << "</text>\n";
  }
  if (c.x_ticks.empty()) {
    for (int k = 0; k <= 4; ++k) {
      const double xv = x0 + (x1 - x0) * k / 4.0;
      s << "<text class='x-tick' x='" << px(xv) << "' y='" << top + ph + 14 << "' text-anchor='middle'>" << fmt(xv, 0)
        << "</text>\n";
    }
  } else {
    for (std::size_t k = 0; k < c.x_ticks.size(); ++k)
      s << "<text class='x-tick' x='" << px(static_cast<double>(k)) << "' y='" << top + ph + 14
        << "' text-anchor='middle'>" << escape_xml(c.x_ticks[k]) << "</text>\n";
  }
  s << "<text x='" << left + pw / 2 << "' y='" << top + ph + 32 << "' text-anchor='middle'>" << escape_xml(c.x_label) << "</text>\n";
  s << "<text transform='translate(14," << top + ph / 2 << ") rotate(-90)' text-anchor='middle'>"
    << escape_xml(c.y_label) << "</text>\n";
  int legend = 0;
  for (const auto& r : c.references) {
    if (!std::isfinite(r.y)) continue;
    s << "<line class='reference' x1='" << left << "' x2='" << left + pw << "' y1='" << py(r.y) << "' y2='" << py(r.y)
      << "' stroke='#555' stroke-dasharray='4,3'><title>" << escape_xml(r.name) << ": " << fmt(r.y, 4)
      << "</title></line>\n";
    s << "<text x='" << left + pw + 8 << "' y='" << top + 14 * ++legend << "' fill='#555'>- - " << escape_xml(r.name)
      << "</text>\n";
  }
  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const auto& ser = c.series[k];
    const char* col = palette[k % palette.size()];
    s << "<polyline fill='none' stroke='" << col << "' stroke-width='1.5' points='";
    for (std::size_t i = 0; i < ser.x.size() && i < ser.y.size(); ++i)
      if (std::isfinite(ser.y[i])) s << px(ser.x[i]) << "," << py(ser.y[i]) << " ";
    s << "'/>\n";
    for (std::size_t i = 0; i < ser.x.size() && i < ser.y.size(); ++i) {
      if (!std::isfinite(ser.y[i])) continue;
      const std::string x_name = !c.x_ticks.empty() && ser.x[i] >= 0 && ser.x[i] < static_cast<double>(c.x_ticks.size())
                                     ? c.x_ticks[static_cast<std::size_t>(ser.x[i])]
                                     : fmt(ser.x[i], 2);
      s << "<circle cx='" << px(ser.x[i]) << "' cy='" << py(ser.y[i]) << "' r='2.5' fill='" << col << "'><title>"
        << escape_xml(ser.name) << ", " << escape_xml(x_name) << ": " << fmt(ser.y[i], 4)
        << (i < ser.error.size() && std::isfinite(ser.error[i]) ? " +- " + fmt(ser.error[i], 4) : std::string())
        << "</title></circle>\n";
      if (i < ser.error.size() && std::isfinite(ser.error[i]) && ser.error[i] > 0)
        s << "<line x1='" << px(ser.x[i]) << "' x2='" << px(ser.x[i]) << "' y1='" << py(ser.y[i] - ser.error[i])
          << "' y2='" << py(ser.y[i] + ser.error[i]) << "' stroke='" << col << "'/>\n";
    }
    s << "<text x='" << left + pw + 8 << "' y='" << top + 14 * ++legend << "' fill='" << col << "'>"
      << escape_xml(ser.name) << "</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

std::string image_svg(const std::string& title, const std::vector<float>& values, int rows, int cols, int pixel,
                      const ImageAxes* axes) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (const float v : values) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(hi > lo)) hi = lo + 1;
  const int left = axes ? 58 : 0, bottom = axes ? 34 : 0, top = 20;
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << left + cols * pixel + 10 << "' height='"
    << top + rows * pixel + bottom << "' font-family='sans-serif' font-size='11' shape-rendering='crispEdges'>\n";
  s << "<text x='0' y='13'>" << escape_xml(title) << "</text>\n";
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const float v = values[static_cast<std::size_t>(r * cols + c)];
      s << "<rect x='" << left + c * pixel << "' y='" << top + (rows - 1 - r) * pixel << "' width='" << pixel
        << "' height='" << pixel << "' fill='" << colour((v - lo) / (hi - lo)) << "'/>";
    }
  s << "\n";
  if (axes) {
    for (const auto& [row, label] : axes->y_ticks)
      s << "<text class='y-tick' x='" << left - 4 << "' y='" << top + (rows - 1 - row) * pixel + pixel / 2 + 4
        << "' text-anchor='end'>" << escape_xml(label) << "</text>\n";
    for (const auto& [col, label] : axes->x_ticks)
      s << "<text class='x-tick' x='" << left + col * pixel + pixel / 2 << "' y='" << top + rows * pixel + 13
        << "' text-anchor='middle'>" << escape_xml(label) << "</text>\n";
    s << "<text x='" << left + cols * pixel / 2 << "' y='" << top + rows * pixel + 28 << "' text-anchor='middle'>"
      << escape_xml(axes->x_label) << "</text>\n";
    s << "<text transform='translate(10," << top + rows * pixel / 2 << ") rotate(-90)' text-anchor='middle'>"
      << escape_xml(axes->y_label) << "</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

ImageAxes mel_axes(int n_mels, int frames, double fmin, double fmax, int hop_length, int sample_rate) {
  ImageAxes axes;
  axes.x_label = "time (s)";
  axes.y_label = "frequency (Hz, mel scale)";
  const auto centres = n_mels > 0 ? dsp::mel_frequencies(n_mels + 2, fmin, fmax) : std::vector<double>{};
  for (int k = 0; k < 5 && n_mels > 0; ++k) {
    const int bin = static_cast<int>(std::lround(k * (n_mels - 1) / 4.0));
    axes.y_ticks.emplace_back(bin, fmt(centres[static_cast<std::size_t>(bin + 1)], 0));
  }
  const double seconds = static_cast<double>(frames - 1) * hop_length / sample_rate;
  for (int k = 0; k <= 4 && frames > 0; ++k) {
    const double t = std::floor(seconds * k / 4.0 * 10) / 10;  // one decimal, at its frame
    axes.x_ticks.emplace_back(static_cast<int>(std::lround(t * sample_rate / hop_length)), fmt(t, 1));
  }
  return axes;
}

}  // namespace cfma::report
