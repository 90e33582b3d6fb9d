#include "cfma/core/blas.hpp"

#include <string>
#include <vector>

#include <cblas.h>

#include "cfma/core/error.hpp"

extern "C" void dpstrf_(const char* uplo, const int* n, double* a, const int* lda, int* piv, int* rank,
                        const double* tol, double* work, int* info);

extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                        double* work, const int* lwork, int* iwork, const int* liwork, int* info);

namespace cfma {

namespace {
int to_int(Eigen::Index v) { return static_cast<int>(v); }
}  // namespace

void syrk_lower_add(Eigen::Ref<Eigen::MatrixXd> c, const Eigen::Ref<const Eigen::MatrixXd>& x) {
  if (x.rows() == 0 || x.cols() == 0) return;
  cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, to_int(x.rows()), to_int(x.cols()), 1.0, x.data(),
              to_int(x.outerStride()), 1.0, c.data(), to_int(c.outerStride()));
}

void gemm_nt_add(Eigen::Ref<Eigen::MatrixXd> c, const Eigen::Ref<const Eigen::MatrixXd>& x,
                 const Eigen::Ref<const Eigen::MatrixXd>& y) {
  if (x.rows() == 0 || y.rows() == 0 || x.cols() == 0) return;
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, to_int(x.rows()), to_int(y.rows()), to_int(x.cols()), 1.0,
              x.data(), to_int(x.outerStride()), y.data(), to_int(y.outerStride()), 1.0, c.data(),
              to_int(c.outerStride()));
}

PivotedCholesky pivoted_cholesky(const Eigen::Ref<const Eigen::MatrixXd>& a, double tol) {
  if (a.rows() != a.cols()) throw Error("pivoted_cholesky: matrix is not square");
  const int n = to_int(a.rows());
  PivotedCholesky result;
  if (n == 0) return result;
  Eigen::MatrixXd l = a;
  std::vector<int> piv(static_cast<std::size_t>(n));
  std::vector<double> work(2 * static_cast<std::size_t>(n));
  int rank = 0, info = 0;
  const char uplo = 'L';
  dpstrf_(&uplo, &n, l.data(), &n, piv.data(), &rank, &tol, work.data(), &info);
  if (info < 0) throw Error("LAPACK dpstrf: bad argument " + std::to_string(-info));
  // info = 1: rank-deficient (the expected case here); the factor is the first `rank` columns.
  result.rank = rank;
  result.factor = l.leftCols(rank).triangularView<Eigen::Lower>();
  result.pivots.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) result.pivots[static_cast<std::size_t>(i)] = piv[static_cast<std::size_t>(i)] - 1;
  return result;
}

SymmetricEigen symmetric_eigen(const Eigen::Ref<const Eigen::MatrixXd>& a, bool vectors) {
  if (a.rows() != a.cols()) throw Error("symmetric_eigen: matrix is not square");
  const int n = to_int(a.rows());
  SymmetricEigen result;
  result.values.resize(n);
  if (n == 0) return result;
  Eigen::MatrixXd m = a;
  const char jobz = vectors ? 'V' : 'N', uplo = 'L';
  int info = 0, lwork = -1, liwork = -1, iwork_size = 0;
  double work_size = 0;
  dsyevd_(&jobz, &uplo, &n, m.data(), &n, result.values.data(), &work_size, &lwork, &iwork_size, &liwork, &info);
  if (info != 0) throw Error("LAPACK dsyevd: workspace query failed (info " + std::to_string(info) + ")");
  lwork = static_cast<int>(work_size);
  liwork = iwork_size;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  dsyevd_(&jobz, &uplo, &n, m.data(), &n, result.values.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  if (info < 0) throw Error("LAPACK dsyevd: bad argument " + std::to_string(-info));
  if (info > 0) throw Error("LAPACK dsyevd: did not converge (" + std::to_string(info) + " eigenvalues)");
  if (vectors) result.vectors = std::move(m);
  return result;
}

}  // namespace cfma
