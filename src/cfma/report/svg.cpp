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
  std::size_t longest = 0;
  for (const auto& l : h.col_labels) longest = std::max(longest, l.size());
  // Column labels are rotated by 60 degrees: about 5.7 px of height per character.
  const int cell = cols > 12 ? 22 : 44, left = 190, top = 40, bar = 70;
  const int bottom = 30 + static_cast<int>(5.7 * static_cast<double>(longest));
  // Wide enough for the cells, the colour bar and the title (about 7.5 px per character at 14 px).
  const int title_width = 10 + static_cast<int>(7.5 * static_cast<double>(h.title.size()));
  const int width = std::max(left + cols * cell + bar + 20, title_width + 10), height = top + rows * cell + bottom;
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
    << "' font-family='sans-serif' font-size='11'>\n";
  s << "<text x='10' y='20' font-size='14'>" << escape_xml(h.title) << "</text>\n";
  const auto is_marked = [&](int r, int c) {  // only cells with a value: a mark on a gap says nothing
    const auto k = static_cast<std::size_t>(r * cols + c);
    return k < h.marked.size() && h.marked[k] && k < h.values.size() && std::isfinite(h.values[k]);
  };
  bool any_marked = false;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) any_marked = any_marked || is_marked(r, c);
  if (!h.mark_legend.empty() && any_marked)
    s << "<text class='mark-legend' x='10' y='34'>&#9698; " << escape_xml(h.mark_legend) << "</text>\n";
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
        << " / " << escape_xml(h.col_labels[static_cast<std::size_t>(c)]) << ": " << fmt(v, 4);
      const auto k = static_cast<std::size_t>(r * cols + c);
      if (k < h.notes.size() && !h.notes[k].empty()) s << " " << escape_xml(h.notes[k]);
      if (is_marked(r, c) && !h.mark_legend.empty()) s << " (" << escape_xml(h.mark_legend) << ")";
      s << "</title></rect>\n";
      if (is_marked(r, c)) {  // a corner triangle, lower right
        const int x = left + (c + 1) * cell, y = top + (r + 1) * cell, m = cell / 3;
        s << "<polygon class='mark' points='" << x << "," << y << " " << x - m << "," << y << " " << x << "," << y - m
          << "' fill='#fff' stroke='#000' stroke-width='0.5'/>\n";
      }
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
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
    << "' font-family='sans-serif' font-size='11'>\n";
  s << "<text x='" << left << "' y='18' font-size='13'>" << escape_xml(c.title) << "</text>\n";
  s << "<rect x='" << left << "' y='" << top << "' width='" << pw << "' height='" << ph
    << "' fill='none' stroke='#888'/>\n";
  for (const auto& [yv, label] : nice_ticks(y0, y1))
    s << "<text class='y-tick' x='" << left - 4 << "' y='" << py(yv) + 4 << "' text-anchor='end'>" << label
      << "</text>\n";
  if (c.x_ticks.empty()) {
    // Whole-number x (epochs): whole-number ticks only.
    bool whole = true;
    for (const auto& ser : c.series)
      for (const double x : ser.x) whole = whole && std::isfinite(x) && x == std::floor(x);
    for (const auto& [xv, label] : nice_ticks(x0, x1)) {
      if (whole && xv != std::floor(xv)) continue;
      s << "<text class='x-tick' x='" << px(xv) << "' y='" << top + ph + 14 << "' text-anchor='middle'>"
        << (whole ? fmt(xv, 0) : label) << "</text>\n";
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
  // Reference lines: grey, each with its own dash pattern, named at their right end and in the legend.
  static const std::array<const char*, 4> reference_dashes = {"4,3", "1,2", "8,3,2,3", "10,4"};
  for (std::size_t k = 0; k < c.references.size(); ++k) {
    const auto& r = c.references[k];
    if (!std::isfinite(r.y)) continue;
    const char* dash = reference_dashes[k % reference_dashes.size()];
    s << "<line class='reference' x1='" << left << "' x2='" << left + pw << "' y1='" << py(r.y) << "' y2='" << py(r.y)
      << "' stroke='#555' stroke-dasharray='" << dash << "'><title>" << escape_xml(r.name) << ": " << fmt(r.y, 4)
      << "</title></line>\n";
    s << "<text class='reference-label' x='" << left + pw - 4 << "' y='" << py(r.y) - 3
      << "' text-anchor='end' font-size='9' fill='#555'>" << escape_xml(r.name) << "</text>\n";
    const int legend_y = top + 14 * ++legend;
    s << "<line x1='" << left + pw + 8 << "' x2='" << left + pw + 26 << "' y1='" << legend_y - 4 << "' y2='" << legend_y - 4
      << "' stroke='#555' stroke-dasharray='" << dash << "'/>\n";
    s << "<text x='" << left + pw + 30 << "' y='" << legend_y << "' fill='#555'>" << escape_xml(r.name) << "</text>\n";
  }
  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const auto& ser = c.series[k];
    const auto style = series_style(ser.style >= 0 ? static_cast<std::size_t>(ser.style) : k);
    const std::string col = style.colour;
    const std::string dash_pattern = ser.dashed ? "6,3" : style.dash;
    const std::string dash = dash_pattern.empty() ? "" : " stroke-dasharray='" + dash_pattern + "'";
    s << "<polyline fill='none' stroke='" << col << "' stroke-width='1.5'" << dash << " points='";
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
    const int legend_y = top + 14 * ++legend;
    s << "<line class='legend-line' x1='" << left + pw + 8 << "' x2='" << left + pw + 26 << "' y1='" << legend_y - 4
      << "' y2='" << legend_y - 4 << "' stroke='" << col << "' stroke-width='1.5'" << dash << "/>\n";
    s << "<text x='" << left + pw + 30 << "' y='" << legend_y << "' fill='" << col << "'>" << escape_xml(ser.name)
      << "</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

std::vector<std::pair<double, std::string>> nice_ticks(double lo, double hi, int count) {
  std::vector<std::pair<double, std::string>> ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi) || hi < lo) return ticks;
  if (hi == lo) return {{lo, fmt(lo, 2)}};
  const double raw = (hi - lo) / std::max(count, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (const double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * magnitude >= raw * (1 - 1e-9)) {
      step = m * magnitude;
      break;
    }
  int decimals = 0;  // as many as the step needs (0.25: 2)
  while (decimals < 10 && std::abs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) > 1e-6)
    ++decimals;
  // Index-based so the labels carry no accumulated rounding (0.1 + 0.2 ...).
  const double first = std::ceil(lo / step - 1e-9);
  for (double k = first; k * step <= hi + step * 1e-9; k += 1) ticks.emplace_back(k * step, fmt(k * step == 0 ? 0.0 : k * step, decimals));
  return ticks;
}

SeriesStyle series_style(std::size_t k) {
  static const std::array<const char*, 10> palette = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  static const std::array<const char*, 3> dashes = {"", "6,3", "2,2"};
  return {palette[k % palette.size()], dashes[(k / palette.size()) % dashes.size()]};
}

std::string bar_chart_svg(const BarChart& c) {
  const int n = static_cast<int>(c.labels.size());
  const int bar = n > 60 ? 6 : n > 20 ? 12 : 24, left = 60, top = 30, ph = 200, bottom = 60;
  const int width = std::max(360, left + n * bar + 20), height = top + ph + bottom;
  double hi = 0;
  for (const double v : c.values)
    if (std::isfinite(v)) hi = std::max(hi, v);
  if (!(hi > 0)) hi = 1;
  // The axis ends at the first nice tick at or above the tallest bar.
  const auto ticks = nice_ticks(0, hi);
  if (!ticks.empty() && ticks.back().first < hi) {
    const double step = ticks.size() > 1 ? ticks[1].first - ticks[0].first : hi;
    hi = ticks.back().first + step;
  }
  const auto py = [&](double v) { return top + ph - v / hi * ph; };
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
    << "' font-family='sans-serif' font-size='11'>\n";
  s << "<text x='" << left << "' y='18' font-size='13'>" << escape_xml(c.title) << "</text>\n";
  s << "<rect x='" << left << "' y='" << top << "' width='" << n * bar << "' height='" << ph
    << "' fill='none' stroke='#888'/>\n";
  for (const auto& [v, label] : nice_ticks(0, hi))
    s << "<text class='y-tick' x='" << left - 4 << "' y='" << py(v) + 4 << "' text-anchor='end'>" << label << "</text>\n";
  const int label_every = std::max(1, n / 12);
  for (int i = 0; i < n; ++i) {
    const double v = i < static_cast<int>(c.values.size()) ? c.values[static_cast<std::size_t>(i)] : NAN;
    const double y = std::isfinite(v) ? py(v) : top + ph;
    s << "<rect class='bar' x='" << left + i * bar + 1 << "' y='" << y << "' width='" << bar - 2 << "' height='"
      << top + ph - y << "' fill='#1f77b4'><title>" << escape_xml(c.labels[static_cast<std::size_t>(i)]) << ": "
      << (std::isfinite(v) ? fmt(v, v == std::floor(v) ? 0 : 4) : "n/a") << "</title></rect>\n";
    if (i % label_every == 0)
      s << "<text class='x-tick' x='" << left + i * bar + bar / 2 << "' y='" << top + ph + 14 << "' text-anchor='middle'>"
        << escape_xml(c.labels[static_cast<std::size_t>(i)]) << "</text>\n";
  }
  s << "<text x='" << left + n * bar / 2 << "' y='" << top + ph + 34 << "' text-anchor='middle'>" << escape_xml(c.x_label)
    << "</text>\n";
  s << "<text transform='translate(14," << top + ph / 2 << ") rotate(-90)' text-anchor='middle'>"
    << escape_xml(c.y_label) << "</text>\n";
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
