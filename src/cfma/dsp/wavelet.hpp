#pragma once
// Ricker-wavelet features (reference-spec 2.4): scipy.signal.cwt(s, ricker, [w]) of each mel
// bin's time series, its mean, and six statistics of the width-25 transform.
#include <span>
#include <vector>

namespace cfma::dsp {

// scipy.signal.ricker(points, a): A (1 - t^2/a^2) exp(-t^2 / (2 a^2)), t = j - (points-1)/2,
// A = 2 / (sqrt(3 a) pi^(1/4)).
std::vector<double> ricker(int points, double a);

// Taps scipy.signal.cwt uses for width w on n samples: min(10 w, n).
int ricker_points(int n, int width);

// scipy.signal.cwt(s, ricker, [width]) as a linear map on n samples: row-major [n][n] T with
// cwt = T s. cwt reverses the wavelet and calls convolve(s, wavelet, mode='same') with zeros
// outside the signal: cwt[i] = sum_j rev[j] s[i + (M-1)/2 - j], rev = ricker(M, w) reversed.
std::vector<double> ricker_cwt_matrix(int n, int width);
// Column means of ricker_cwt_matrix: mean_i cwt[i] = dot(weights, s).
std::vector<double> ricker_cwt_mean_weights(int n, int width);
// scipy.signal.cwt(s, ricker, [width])[0] -> out (same size as s).
void cwt_ricker(std::span<const double> s, int width, std::span<double> out);

// scipy.signal.cwt(s, ricker, [width]) of many series of length n at once, by FFT convolution
// (FFTW, double precision; zero padding to a power of two >= n + M - 1, so no wrap-around).
// Agrees with ricker_cwt_matrix to ~1e-15 of the largest value. Owns its plans and buffers;
// one per thread.
class RickerCwt {
 public:
  RickerCwt(int n, int width);
  ~RickerCwt();
  RickerCwt(const RickerCwt&) = delete;
  RickerCwt& operator=(const RickerCwt&) = delete;
  int size() const { return n_; }
  // series: [count][n] row-major; out: [count][n].
  void transform(std::span<const float> series, std::span<double> out);

 private:
  void release();
  int n_;
  int m_;        // wavelet taps
  int length_;   // FFT length
  double* time_ = nullptr;
  void* spectrum_ = nullptr;    // fftw_complex[length/2 + 1]
  std::vector<double> kernel_;  // the reversed wavelet's spectrum / length, interleaved re, im
  void* forward_ = nullptr;     // fftw_plan
  void* inverse_ = nullptr;
};

// The six "additional wavelet" statistics, in the order stored in wavelet_stats_<w>.
struct WaveletStatistics {
  double median = 0;    // numpy.median
  double sd = 0;        // numpy.std, ddof 0
  double variance = 0;  // numpy.var, ddof 0
  double kurtosis = 0;  // scipy.stats.kurtosis(fisher=True, bias=True); NaN for a constant series
  double q25 = 0;       // numpy.quantile(.., 0.25), linear
  double q75 = 0;       // numpy.quantile(.., 0.75), linear
};
inline constexpr int kWaveletStatisticsCount = 6;

// Statistics of `values`, which it reorders (partial sorts) in place. DspError when empty.
WaveletStatistics describe(std::span<double> values);

}  // namespace cfma::dsp
