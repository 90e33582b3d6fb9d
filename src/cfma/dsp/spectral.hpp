#pragma once
// librosa's spectral features (reference-spec 2.2), one frame at a time. `magnitude` is
// |STFT| of one frame (n_fft/2 + 1 bins), `power` is |STFT|^2, `freqs` the bin frequencies
// k * sr / n_fft (see fft_frequencies; the paper's quirk Q4 is sr = 22050 here).
#include <span>

namespace cfma::dsp {

// librosa.feature.rms(y, frame_length, hop_length, center=True): sqrt(mean(x^2)) over frames
// of the already padded signal (see pad_centered), no window. out.size() = number of frames.
void rms_frames(std::span<const float> padded, int frame_length, int hop_length,
                std::span<float> out);

// sum_k f_k S_k / sum_k S_k (librosa normalises S to unit L1 norm; a frame whose L1 norm is
// below the smallest normal float counts as norm 1, so silence gives 0).
double spectral_centroid(std::span<const float> magnitude, std::span<const double> freqs);
// p = 2, norm=True: sqrt(sum_k S^_k (f_k - centroid)^2), S^ the L1-normalised spectrum.
double spectral_bandwidth(std::span<const float> magnitude, std::span<const double> freqs,
                          double centroid);
// P = max(power, amin) (float32, as librosa): exp(mean log P) / mean P.
double spectral_flatness(std::span<const float> power, double amin);
// Smallest f_k whose float32 running sum of S (numpy.cumsum order) reaches
// roll_percent * (total float32 sum).
double spectral_rolloff(std::span<const float> magnitude, std::span<const double> freqs,
                        double roll_percent);

// sum_k log(max(x_k, floor)) for floor > 0, accurate to ~1e-12 absolute, without a log per
// element: products of doubles with the binary exponent pulled out every 16 factors.
double sum_of_logs(std::span<const float> x, float floor);

}  // namespace cfma::dsp
