#include "cfma/dsp/stft.hpp"

#include <fftw3.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cmath>
#include <numbers>
#include <string>

#include "cfma/core/error.hpp"

namespace cfma::dsp {

std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

int frame_count(std::size_t n_samples, int hop_length) {
  if (hop_length <= 0) throw DspError("frame_count: hop_length must be > 0");
  return 1 + static_cast<int>(n_samples / static_cast<std::size_t>(hop_length));
}

std::vector<double> hann_window(int n) {
  if (n <= 0) throw DspError("hann_window: length must be > 0, got " + std::to_string(n));
  std::vector<double> w(static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k)
    w[static_cast<std::size_t>(k)] = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * k / n);
  return w;
}

void pad_centered(std::span<const float> y, int pad, PadMode mode, std::span<float> out) {
  const std::size_t n = y.size();
  const auto p = static_cast<std::size_t>(pad);
  if (pad < 0 || out.size() != n + 2 * p)
    throw DspError("pad_centered: output must hold " + std::to_string(n + 2 * p) + " samples");
  if (mode == PadMode::reflect && p >= n)
    throw DspError("pad_centered: reflect padding of " + std::to_string(pad) +
                   " needs more than " + std::to_string(pad) + " samples, got " + std::to_string(n));
  std::copy(y.begin(), y.end(), out.begin() + static_cast<std::ptrdiff_t>(p));
  if (mode == PadMode::constant) {
    std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(p), 0.0f);
    std::fill(out.end() - static_cast<std::ptrdiff_t>(p), out.end(), 0.0f);
    return;
  }
  for (std::size_t i = 1; i <= p; ++i) {
    out[p - i] = y[i];              // left: y[p], ..., y[1]
    out[p + n - 1 + i] = y[n - 1 - i];  // right: y[n-2], ..., y[n-1-p]
  }
}

RealFft::RealFft(int n) : n_(n) {
  if (n < 2) throw DspError("RealFft: length must be >= 2, got " + std::to_string(n));
  in_ = fftw_alloc_real(static_cast<std::size_t>(n));
  out_ = fftw_alloc_complex(static_cast<std::size_t>(bins()));
  if (in_ == nullptr || out_ == nullptr) {
    fftw_free(in_);
    fftw_free(out_);
    throw DspError("RealFft: cannot allocate buffers of length " + std::to_string(n));
  }
  std::lock_guard lock(fftw_planner_mutex());
  plan_ = fftw_plan_dft_r2c_1d(n, in_, static_cast<fftw_complex*>(out_), FFTW_ESTIMATE);
  if (plan_ == nullptr) {
    fftw_free(in_);
    fftw_free(out_);
    throw DspError("RealFft: FFTW could not plan a real FFT of length " + std::to_string(n));
  }
}

RealFft::~RealFft() {
  {
    std::lock_guard lock(fftw_planner_mutex());
    fftw_destroy_plan(static_cast<fftw_plan>(plan_));
  }
  fftw_free(in_);
  fftw_free(out_);
}

void RealFft::spectrum(std::span<float> power, std::span<float> magnitude) {
  const auto n_bins = static_cast<std::size_t>(bins());
  if (power.size() != n_bins || (!magnitude.empty() && magnitude.size() != n_bins))
    throw DspError("RealFft::spectrum: outputs must hold " + std::to_string(n_bins) + " bins");
  fftw_execute(static_cast<fftw_plan>(plan_));
  const auto* c = static_cast<const double*>(out_);  // interleaved re, im
  for (std::size_t k = 0; k < n_bins; ++k) {
    const auto re = static_cast<float>(c[2 * k]), im = static_cast<float>(c[2 * k + 1]);
    power[k] = re * re + im * im;
  }
  if (magnitude.empty()) return;
  std::size_t k = 0;
#if defined(__SSE2__)
  // std::sqrt is not vectorised without -fno-math-errno; power >= 0, so sqrtps is exact here.
  for (; k + 4 <= n_bins; k += 4)
    _mm_storeu_ps(magnitude.data() + k, _mm_sqrt_ps(_mm_loadu_ps(power.data() + k)));
#endif
  for (; k < n_bins; ++k) magnitude[k] = std::sqrt(power[k]);
}

void load_windowed_frame(std::span<const float> padded, int frame, int hop_length,
                         std::span<const double> window, RealFft& fft) {
  const auto n = static_cast<std::size_t>(fft.size());
  const auto start = static_cast<std::size_t>(frame) * static_cast<std::size_t>(hop_length);
  if (window.size() != n || start + n > padded.size())
    throw DspError("load_windowed_frame: frame " + std::to_string(frame) + " outside the signal");
  const float* x = padded.data() + start;
  double* in = fft.input().data();
  for (std::size_t i = 0; i < n; ++i) in[i] = x[i] * window[i];
}

std::vector<float> stft_power(std::span<const float> y, int n_fft, int hop_length, PadMode mode) {
  RealFft fft(n_fft);
  const int pad = n_fft / 2;
  std::vector<float> padded(y.size() + 2 * static_cast<std::size_t>(pad));
  pad_centered(y, pad, mode, padded);
  const auto window = hann_window(n_fft);
  const int n_frames = frame_count(y.size(), hop_length);
  const auto bins = static_cast<std::size_t>(fft.bins());
  std::vector<float> power(static_cast<std::size_t>(n_frames) * bins);
  for (int t = 0; t < n_frames; ++t) {
    load_windowed_frame(padded, t, hop_length, window, fft);
    fft.spectrum(std::span(power).subspan(static_cast<std::size_t>(t) * bins, bins));
  }
  return power;
}

}  // namespace cfma::dsp
