#include "cfma/dsp/wavelet.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include <fftw3.h>

#include "cfma/core/error.hpp"
#include "cfma/dsp/stft.hpp"

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

void cwt_ricker(std::span<const double> s, int width, std::span<double> out) {
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

RickerCwt::RickerCwt(int n, int width) : n_(n), m_(ricker_points(n, width)) {
  length_ = 1;
  while (length_ < n_ + m_ - 1) length_ *= 2;
  const auto len = static_cast<std::size_t>(length_), bins = len / 2 + 1;
  time_ = fftw_alloc_real(len);
  spectrum_ = fftw_alloc_complex(bins);
  if (time_ == nullptr || spectrum_ == nullptr) {
    release();
    throw DspError("RickerCwt: cannot allocate FFT buffers of length " + std::to_string(length_));
  }
  {
    std::lock_guard lock(fftw_planner_mutex());
    auto* c = static_cast<fftw_complex*>(spectrum_);
    forward_ = fftw_plan_dft_r2c_1d(length_, time_, c, FFTW_ESTIMATE);
    inverse_ = fftw_plan_dft_c2r_1d(length_, c, time_, FFTW_ESTIMATE);
  }
  if (forward_ == nullptr || inverse_ == nullptr) {
    release();
    throw DspError("RickerCwt: FFTW could not plan length " + std::to_string(length_));
  }
  // Spectrum of the reversed wavelet (cwt convolves with it), scaled for the unnormalised inverse.
  const auto wavelet = ricker(m_, width);
  std::fill(time_, time_ + len, 0.0);
  for (int j = 0; j < m_; ++j) time_[j] = wavelet[static_cast<std::size_t>(m_ - 1 - j)];
  fftw_execute(static_cast<fftw_plan>(forward_));
  const auto* c = static_cast<const double*>(spectrum_);
  kernel_.assign(c, c + 2 * bins);
  for (double& v : kernel_) v /= static_cast<double>(length_);
}

RickerCwt::~RickerCwt() { release(); }

void RickerCwt::release() {
  {
    std::lock_guard lock(fftw_planner_mutex());
    if (forward_ != nullptr) fftw_destroy_plan(static_cast<fftw_plan>(forward_));
    if (inverse_ != nullptr) fftw_destroy_plan(static_cast<fftw_plan>(inverse_));
    forward_ = inverse_ = nullptr;
  }
  fftw_free(time_);
  fftw_free(spectrum_);
  time_ = nullptr;
  spectrum_ = nullptr;
}

void RickerCwt::transform(std::span<const float> series, std::span<double> out) {
  const auto n = static_cast<std::size_t>(n_);
  if (series.size() % n != 0 || out.size() != series.size())
    throw DspError("RickerCwt: input must be whole series of " + std::to_string(n_) +
                   " samples and the output as large");
  const auto len = static_cast<std::size_t>(length_), bins = len / 2 + 1;
  const auto offset = static_cast<std::size_t>((m_ - 1) / 2);  // convolve mode='same'
  auto* c = static_cast<double*>(spectrum_);
  for (std::size_t row = 0; row < series.size() / n; ++row) {
    const float* s = series.data() + row * n;
    for (std::size_t i = 0; i < n; ++i) time_[i] = s[i];
    std::fill(time_ + n, time_ + len, 0.0);
    fftw_execute(static_cast<fftw_plan>(forward_));
    for (std::size_t k = 0; k < bins; ++k) {
      const double re = c[2 * k], im = c[2 * k + 1];
      const double kr = kernel_[2 * k], ki = kernel_[2 * k + 1];
      c[2 * k] = re * kr - im * ki;
      c[2 * k + 1] = re * ki + im * kr;
    }
    fftw_execute(static_cast<fftw_plan>(inverse_));
    std::copy(time_ + offset, time_ + offset + n, out.data() + row * n);
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

  // Order statistics: numpy's linear quantile at (n - 1) q lies between ranks floor and
  // floor + 1. Rank r's value after nth_element(r); rank r - 1 is then the maximum of the part
  // below it, so three partitions on shrinking ranges and three scans give all six.
  const auto virtual_index = [&](double q) { return (dn - 1) * q; };
  const double v25 = virtual_index(0.25), v75 = virtual_index(0.75);
  const auto lo25 = static_cast<std::size_t>(v25), lo75 = static_cast<std::size_t>(v75);
  const auto at = [&](std::size_t r) { return values.begin() + static_cast<std::ptrdiff_t>(r); };
  // value of rank r, given that ranks [begin, end) occupy positions [begin, end)
  const auto select = [&](std::size_t begin, std::size_t end, std::size_t r) {
    std::nth_element(at(begin), at(r), at(end));
    return values[r];
  };
  const auto max_below = [&](std::size_t begin, std::size_t r) {
    return r > begin ? *std::max_element(at(begin), at(r)) : values[r];
  };
  const std::size_t mid = n / 2;
  const double upper_mid = select(0, n, mid);
  const double lower_mid = n % 2 == 0 ? max_below(0, mid) : upper_mid;
  const std::size_t hi25 = std::min(lo25 + 1, n - 1), hi75 = std::min(lo75 + 1, n - 1);
  // q25's ranks lie at or below mid, q75's at or above it.
  const double q25_hi = hi25 == mid ? upper_mid : select(0, mid, hi25);
  const double q25_lo = lo25 == hi25 ? q25_hi : max_below(0, hi25);
  const double q75_hi = hi75 == mid ? upper_mid : select(mid + 1, n, hi75);
  const double q75_lo = lo75 == hi75  ? q75_hi
                        : lo75 == mid ? upper_mid
                        : lo75 < mid  ? lower_mid  // only n = 2
                                      : max_below(mid + 1, hi75);
  st.median = (lower_mid + upper_mid) / 2.0;
  st.q25 = lerp(q25_lo, q25_hi, v25 - static_cast<double>(lo25));
  st.q75 = lerp(q75_lo, q75_hi, v75 - static_cast<double>(lo75));
  return st;
}

}  // namespace cfma::dsp
