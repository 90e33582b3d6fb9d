#include "cfma/sim/blas.hpp"

#include <cblas.h>

namespace cfma::sim {

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

}  // namespace cfma::sim
