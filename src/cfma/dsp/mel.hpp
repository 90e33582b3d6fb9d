#pragma once
// Mel scale and filterbank exactly as librosa.filters.mel(htk=False, norm='slaney'), plus
// librosa.power_to_db(ref=np.max).
#include <cstddef>
#include <span>
#include <vector>

namespace cfma::dsp {

// Slaney's auditory-toolbox mel scale (librosa hz_to_mel / mel_to_hz with htk=False): linear
// below 1 kHz (200/3 Hz per mel), logarithmic above (step log(6.4)/27).
double hz_to_mel(double hz);
double mel_to_hz(double mel);
// librosa.mel_frequencies(n, fmin, fmax): n points equally spaced on the mel scale, in Hz.
std::vector<double> mel_frequencies(int n, double fmin, double fmax);
// librosa.fft_frequencies(sr, n_fft) = numpy.fft.rfftfreq(n_fft, 1/sr): k * sr / n_fft.
std::vector<double> fft_frequencies(double sample_rate, int n_fft);

// Triangular filters with Slaney area normalisation, float32 as librosa returns them, stored
// densely [n_mels][n_fft/2 + 1] plus, per filter, its nonzero band [band_begin, band_end) so
// that applying it touches only those bins.
struct MelFilterbank {
  int n_mels = 0;
  int bins = 0;  // n_fft / 2 + 1
  std::vector<float> weights;
  std::vector<int> band_begin;
  std::vector<int> band_end;
  float weight(int mel, int bin) const {
    return weights[static_cast<std::size_t>(mel) * static_cast<std::size_t>(bins) +
                   static_cast<std::size_t>(bin)];
  }
};

// librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False, norm='slaney').
// DspError for n_mels <= 0, n_fft < 2, fmax <= fmin or fmax > sample_rate / 2.
MelFilterbank mel_filterbank(double sample_rate, int n_fft, int n_mels, double fmin, double fmax);

// mel[m] = sum_k weights[m][k] * power[k] over the filter's band (float accumulation, as
// librosa's float32 dot product). power: bins values; mel: n_mels values.
void apply_mel_filterbank(const MelFilterbank& fb, std::span<const float> power,
                          std::span<float> mel);

// librosa.power_to_db(S, ref=np.max, amin, top_db): 10 log10(max(S, amin)) -
// 10 log10(max(max(S), amin)), then floored at (maximum - top_db). The maximum is exactly 0 dB
// and the floor exactly -top_db (both terms use the same log, in double). In place allowed.
void power_to_db(std::span<const float> power, std::span<float> db, double amin, double top_db);

}  // namespace cfma::dsp
