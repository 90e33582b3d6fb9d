#include "cfma/dsp/wavelet.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include "cfma/core/error.hpp"

namespace cfma::dsp {

namespace {

// numpy's linear interpolation (numpy.lib.function_base._lerp), which computes from the upper
// neighbour when t >= 0.5.
double lerp(double a, double b, double t) {
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

}  // namespace

std::vector<double> ricker(int points, double a) {
  if (points <= 0 || !(a > 0))
    throw DspError("ricker: need points > 0 and a > 0, got " + std::to_string(points) + ", " +
                   std::to_string(a));
  const double amplitude = 2.0 / (std::sqrt(3.0 * a) * std::pow(std::numbers::pi, 0.25));
  const double wsq = a * a;
  std::vector<double> w(static_cast<std::size_t>(points));
  for (int j = 0; j < points; ++j) {
    const double t = j - (points - 1.0) / 2;
    const double xsq = t * t;
    w[static_cast<std::size_t>(j)] = amplitude * (1 - xsq / wsq) * std::exp(-xsq / (2 * wsq));
  }
  return w;
}

int ricker_points(int n, int width) {
  if (n <= 0 || width <= 0)
    throw DspError("ricker_points: need n > 0 and width > 0, got " + std::to_string(n) + ", " +
                   std::to_string(width));
  return static_cast<int>(std::min<long>(10L * width, n));
}

std::vector<double> ricker_cwt_matrix(int n, int width) {
  const int m = ricker_points(n, width);
  const auto wavelet = ricker(m, width);
  const int half = (m - 1) / 2;  // scipy's 'same' keeps full[(M-1)//2 : (M-1)//2 + n]
  std::vector<double> t(static_cast<std::size_t>(n) * static_cast<std::size_t>(n), 0.0);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j) {
      const int source = i + half - j;
      if (source < 0 || source >= n) continue;
      // rev[j] = wavelet[m - 1 - j]
      t[static_cast<std::size_t>(i) * static_cast<std::size_t>(n) + static_cast<std::size_t>(source)] =
          wavelet[static_cast<std::size_t>(m - 1 - j)];
    }
  return t;
}

std::vector<double> ricker_cwt_mean_weights(int n, int width) {
  const auto t = ricker_cwt_matrix(n, width);
  const auto un = static_cast<std::size_t>(n);
  std::vector<double> weights(un, 0.0);
  for (std::size_t i = 0; i < un; ++i)
    for (std::size_t s = 0; s < un; ++s) weights[s] += t[i * un + s];
  for (double& w : weights) w /= n;
  return weights;
}

void cwt_ricker(std::span<const float> s, int width, std::span<double> out) {
  if (s.empty() || out.size() != s.size())
    throw DspError("cwt_ricker: output must have the input's " + std::to_string(s.size()) + " samples");
  const int n = static_cast<int>(s.size());
  const auto t = ricker_cwt_matrix(n, width);
  for (std::size_t i = 0; i < s.size(); ++i) {
    double acc = 0;
    for (std::size_t j = 0; j < s.size(); ++j) acc += t[i * s.size() + j] * s[j];
    out[i] = acc;
  }
}

WaveletStatistics describe(std::span<double> values) {
  if (values.empty()) throw DspError("describe: no values");
  const std::size_t n = values.size();
  const double dn = static_cast<double>(n);
  WaveletStatistics st;

  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / dn;
  double m2 = 0, m4 = 0;
  for (double v : values) {
    const double d = (v - mean) * (v - mean);
    m2 += d;
    m4 += d * d;
  }
  m2 /= dn;
  m4 /= dn;
  st.variance = m2;
  st.sd = std::sqrt(m2);
  // scipy.stats.kurtosis: NaN where m2 <= (float64 resolution * mean)^2 (a constant series).
  const double resolution_scale = 1e-15 * mean;
  st.kurtosis = m2 <= resolution_scale * resolution_scale
                    ? std::numeric_limits<double>::quiet_NaN()
                    : m4 / (m2 * m2) - 3.0;

  // Order statistics: numpy's linear quantile at (n - 1) q between ranks floor and floor + 1.
  const auto virtual_index = [&](double q) { return (dn - 1) * q; };
  const double v25 = virtual_index(0.25), v75 = virtual_index(0.75);
  const auto lo25 = static_cast<std::size_t>(v25), lo75 = static_cast<std::size_t>(v75);
  std::size_t ranks[6] = {lo25, std::min(lo25 + 1, n - 1), (n - 1) / 2, n / 2,
                          lo75, std::min(lo75 + 1, n - 1)};
  std::sort(std::begin(ranks), std::end(ranks));
  std::size_t from = 0;
  for (std::size_t r : ranks) {
    if (r < from) continue;  // a repeated rank is already in place
    std::nth_element(values.begin() + static_cast<std::ptrdiff_t>(from),
                     values.begin() + static_cast<std::ptrdiff_t>(r), values.end());
    from = r + 1;
  }
  st.median = (values[(n - 1) / 2] + values[n / 2]) / 2.0;
  st.q25 = lerp(values[lo25], values[std::min(lo25 + 1, n - 1)], v25 - static_cast<double>(lo25));
  st.q75 = lerp(values[lo75], values[std::min(lo75 + 1, n - 1)], v75 - static_cast<double>(lo75));
  return st;
}

}  // namespace cfma::dsp
