#pragma once
// Row-level inner loops of the nn kernels. The float versions are compiled for AVX-512,
// AVX2 and baseline x86-64 (GCC target_clones: the loader picks the best one for the CPU),
// since the project builds without -march flags and these loops carry a training step.
#include <cstdint>

namespace cfma::nn::simd {

// sum_j a[j] * b[j]
float dot(const float* a, const float* b, std::int64_t n);
double dot(const double* a, const double* b, std::int64_t n);
// out[t] += sum_j a[j] * b[offsets[t] + j] for t < count (taps in groups of 5 sharing the
// loads of a: the weight gradient of a 5-wide kernel row)
void multi_dot(const float* a, const float* b, const std::int64_t* offsets, std::int64_t count,
               std::int64_t n, double* out);
void multi_dot(const double* a, const double* b, const std::int64_t* offsets, std::int64_t count,
               std::int64_t n, double* out);
// sum_j a[j], sum_j a[j]^2 (added to *sum, *sumsq)
void sum_and_squares(const float* a, std::int64_t n, double* sum, double* sumsq);
void sum_and_squares(const double* a, std::int64_t n, double* sum, double* sumsq);
// out[j] = bias + sum_t w[t] * x[offsets[t] + j], j < n
void conv_row(float* out, const float* x, const float* w, const std::int64_t* offsets,
              std::int64_t taps, std::int64_t n, float bias);
void conv_row(double* out, const double* x, const double* w, const std::int64_t* offsets,
              std::int64_t taps, std::int64_t n, double bias);
// out[j] = alpha + beta * x[j]
void affine(float* out, const float* x, std::int64_t n, float alpha, float beta);
void affine(double* out, const double* x, std::int64_t n, double alpha, double beta);

}  // namespace cfma::nn::simd
