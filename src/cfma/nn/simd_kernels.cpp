#include "cfma/nn/simd_kernels.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CFMA_CLONES __attribute__((target_clones("arch=skylake-avx512", "arch=haswell", "default")))
#else
#define CFMA_CLONES
#endif

namespace cfma::nn::simd {
namespace {

template <typename T>
inline T dot_impl(const T* a, const T* b, std::int64_t n) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (std::int64_t j = 0; j < n; ++j) s += a[j] * b[j];
  return s;
}

template <typename T>
inline void multi_dot_impl(const T* a, const T* b, const std::int64_t* offsets, std::int64_t count,
                           std::int64_t n, double* out) {
  std::int64_t t = 0;
  for (; t + 5 <= count; t += 5) {
    const T *b0 = b + offsets[t], *b1 = b + offsets[t + 1], *b2 = b + offsets[t + 2];
    const T *b3 = b + offsets[t + 3], *b4 = b + offsets[t + 4];
    T s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3, s4)
    for (std::int64_t j = 0; j < n; ++j) {
      const T av = a[j];
      s0 += av * b0[j];
      s1 += av * b1[j];
      s2 += av * b2[j];
      s3 += av * b3[j];
      s4 += av * b4[j];
    }
    out[t] += s0;
    out[t + 1] += s1;
    out[t + 2] += s2;
    out[t + 3] += s3;
    out[t + 4] += s4;
  }
  for (; t < count; ++t) out[t] += dot_impl(a, b + offsets[t], n);
}

template <typename T>
inline void sums_impl(const T* a, std::int64_t n, double* sum, double* sumsq) {
  T s = 0, ss = 0;
#pragma omp simd reduction(+ : s, ss)
  for (std::int64_t j = 0; j < n; ++j) {
    s += a[j];
    ss += a[j] * a[j];
  }
  *sum += s;
  *sumsq += ss;
}

template <typename T>
inline void conv_row_impl(T* out, const T* x, const T* w, const std::int64_t* offsets,
                          std::int64_t taps, std::int64_t n, T bias) {
  // One tap at a time over the whole row (an axpy on contiguous data; the row stays in L1).
  // Taps-innermost with indirect offsets does not vectorise and was 5x slower.
#pragma omp simd
  for (std::int64_t j = 0; j < n; ++j) out[j] = bias;
  for (std::int64_t t = 0; t < taps; ++t) {
    const T wt = w[t];
    const T* src = x + offsets[t];
#pragma omp simd
    for (std::int64_t j = 0; j < n; ++j) out[j] += wt * src[j];
  }
}

template <typename T>
inline void affine_impl(T* out, const T* x, std::int64_t n, T alpha, T beta) {
#pragma omp simd
  for (std::int64_t j = 0; j < n; ++j) out[j] = alpha + beta * x[j];
}

}  // namespace

CFMA_CLONES float dot(const float* a, const float* b, std::int64_t n) { return dot_impl(a, b, n); }
double dot(const double* a, const double* b, std::int64_t n) { return dot_impl(a, b, n); }
CFMA_CLONES void multi_dot(const float* a, const float* b, const std::int64_t* offsets,
                           std::int64_t count, std::int64_t n, double* out) {
  multi_dot_impl(a, b, offsets, count, n, out);
}
void multi_dot(const double* a, const double* b, const std::int64_t* offsets, std::int64_t count,
               std::int64_t n, double* out) {
  multi_dot_impl(a, b, offsets, count, n, out);
}
CFMA_CLONES void sum_and_squares(const float* a, std::int64_t n, double* sum, double* sumsq) {
  sums_impl(a, n, sum, sumsq);
}
void sum_and_squares(const double* a, std::int64_t n, double* sum, double* sumsq) {
  sums_impl(a, n, sum, sumsq);
}
CFMA_CLONES void conv_row(float* out, const float* x, const float* w, const std::int64_t* offsets,
                          std::int64_t taps, std::int64_t n, float bias) {
  conv_row_impl(out, x, w, offsets, taps, n, bias);
}
void conv_row(double* out, const double* x, const double* w, const std::int64_t* offsets,
              std::int64_t taps, std::int64_t n, double bias) {
  conv_row_impl(out, x, w, offsets, taps, n, bias);
}
CFMA_CLONES void affine(float* out, const float* x, std::int64_t n, float alpha, float beta) {
  affine_impl(out, x, n, alpha, beta);
}
void affine(double* out, const double* x, std::int64_t n, double alpha, double beta) {
  affine_impl(out, x, n, alpha, beta);
}

}  // namespace cfma::nn::simd
