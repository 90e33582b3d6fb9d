#pragma once
// The two level-3 products the similarity reduction spends its time in, on the system BLAS
// (Debian's libblas.so.3, which install-deps points at OpenBLAS; threads and kernels:
// core/blas_runtime.hpp). Eigen's own SYRK runs on one thread and its GEMM reaches about 75 %
// of OpenBLAS here (bench/README.md, similarity).
#include <Eigen/Dense>

namespace cfma::sim {

// C(lower) += X X'  for X (d x k, column-major, any leading dimension), C d x d column-major.
void syrk_lower_add(Eigen::Ref<Eigen::MatrixXd> c, const Eigen::Ref<const Eigen::MatrixXd>& x);
// C += X Y'  for X (p x k), Y (q x k), C p x q.
void gemm_nt_add(Eigen::Ref<Eigen::MatrixXd> c, const Eigen::Ref<const Eigen::MatrixXd>& x,
                 const Eigen::Ref<const Eigen::MatrixXd>& y);

}  // namespace cfma::sim
