#pragma once
// Figures as standalone SVG text (no plotting library exists in C++ on Debian; these three
// chart types are all the report needs).
#include <string>
#include <utility>
#include <vector>

namespace cfma::report {

struct Heatmap {
  std::string title;
  std::vector<std::string> row_labels, col_labels;
  std::vector<double> values;  // rows x cols, row-major; NaN = missing
  double vmin = 0, vmax = 1;
  bool annotate = true;        // print values (2 decimals) in cells
  // Optional, per cell (rows x cols, or empty): text added to the cell's <title> (e.g. its
  // bootstrap interval and p-value), and cells drawn with a corner mark explained by
  // `mark_legend` under the title (e.g. computed by minibatch CKA).
  std::vector<std::string> notes;
  std::vector<bool> marked;
  std::string mark_legend;
};
// Cells coloured by (v - vmin) / (vmax - vmin) on the viridis-like scale, a colour bar with its
// vmin / middle / vmax labels right of the cells, every cell's exact value in its <title>.
std::string heatmap_svg(const Heatmap& h);
// The scale's colour at t in [0, 1] (clamped; NaN -> light grey), "#rrggbb".
std::string scale_colour(double t);

struct Series {
  std::string name;
  std::vector<double> x, y;
  std::vector<double> error;  // optional +- bars (same size as y)
  int style = -1;             // series_style index (-1: the series' position)
  bool dashed = false;        // dashed line (e.g. the test curve beside a solid train curve)
};
// A horizontal dashed line across the plot (a baseline), labelled at its right end.
struct ReferenceLine {
  std::string name;
  double y = 0;
};
struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  // Categorical x: series x values are positions 0..n-1 and the ticks show these labels.
  std::vector<std::string> x_ticks;
  std::vector<ReferenceLine> references;
};
// Axis ranges cover every finite point (with its error bar) and every reference line; each
// point carries a <title> with its series, x and exact y.
std::string line_chart_svg(const LineChart& c);

// The y range line_chart_svg draws: [lowest, highest] over points +- errors and references,
// widened to a non-empty interval.
std::pair<double, double> y_range(const LineChart& c);

// Line style of series k: one of 10 colours, then (for k >= 10) dashed and dotted variants,
// so up to 30 series stay distinct; legends draw the same style.
struct SeriesStyle {
  std::string colour, dash;  // dash: SVG stroke-dasharray, empty = solid
};
SeriesStyle series_style(std::size_t k);

// Bars (e.g. a histogram): one bar per label, heights from 0; each bar's exact value in its
// <title>.
struct BarChart {
  std::string title, x_label, y_label;
  std::vector<std::string> labels;
  std::vector<double> values;
};
std::string bar_chart_svg(const BarChart& c);

// Axis ticks at multiples of 1, 2, 2.5 or 5 x 10^k covering [lo, hi]: at most about `count` + 1
// values, all inside [lo, hi] (the first at or above lo), with the decimals their step needs.
std::vector<std::pair<double, std::string>> nice_ticks(double lo, double hi, int count = 5);

// Tick labels of an image axis: (row or column index, label).
using AxisTicks = std::vector<std::pair<int, std::string>>;
struct ImageAxes {
  std::string x_label, y_label;
  AxisTicks x_ticks, y_ticks;  // y: row indices (row 0 drawn at the bottom)
};
// A matrix as an image (e.g. a mel spectrogram), low rows at the bottom, viridis-like colours;
// with `axes`, labelled ticks left of and below it.
std::string image_svg(const std::string& title, const std::vector<float>& values, int rows, int cols,
                      int pixel = 2, const ImageAxes* axes = nullptr);
// A log-mel spectrogram's axes: mel bins labelled with their centre frequency in Hz (librosa's
// mel_frequencies(n_mels + 2, fmin, fmax)[1:-1]), frames in seconds (frame * hop / sr).
ImageAxes mel_axes(int n_mels, int frames, double fmin, double fmax, int hop_length, int sample_rate);

std::string escape_xml(const std::string& s);

}  // namespace cfma::report
