#include "cfma/probe/row_space.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_map>


#include "cfma/core/blas.hpp"
#include "cfma/core/error.hpp"
#include "cfma/par/reduce.hpp"
#include "cfma/par/test_fault.hpp"
#include "cfma/par/world.hpp"

namespace cfma::probe {
namespace {

using Matrix = Eigen::MatrixXd;

// The listed rows of the reader's set, in list order (rows x columns).
Matrix read_listed_rows(store::FeatureReader& reader, const std::vector<std::int64_t>& rows, std::int64_t chunk_rows) {
  std::vector<std::size_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return rows[a] < rows[b]; });
  const std::int64_t d = reader.set().columns();
  Matrix block(static_cast<Eigen::Index>(rows.size()), d);
  std::vector<double> buffer;
  std::vector<std::int64_t> sorted;
  for (std::size_t begin = 0; begin < order.size(); begin += static_cast<std::size_t>(chunk_rows)) {
    const std::size_t end = std::min(order.size(), begin + static_cast<std::size_t>(chunk_rows));
    sorted.clear();
    for (std::size_t k = begin; k < end; ++k) sorted.push_back(rows[order[k]]);
    buffer.resize(sorted.size() * static_cast<std::size_t>(d));
    reader.read_rows(sorted, buffer);
    for (std::size_t k = begin; k < end; ++k)
      block.row(static_cast<Eigen::Index>(order[k])) =
          Eigen::Map<const Eigen::RowVectorXd>(buffer.data() + (k - begin) * static_cast<std::size_t>(d), d);
  }
  return block;
}

// Standardises the columns of `x` in place with the statistics of `stats_of` (population sd,
// constant columns left unscaled as ColumnStats::inv_scale does).
void standardise_columns(Matrix& x, const Matrix& stats_of) {
  const double n = static_cast<double>(stats_of.rows());
  ColumnStats stats;
  stats.mean = stats_of.colwise().sum().transpose() / n;
  stats.sd = ((stats_of.rowwise() - stats.mean.transpose()).array().square().colwise().sum() / n).sqrt().transpose();
  const Eigen::VectorXd inv = stats.inv_scale();
  x = ((x.rowwise() - stats.mean.transpose()).array().rowwise() * inv.transpose().array()).matrix();
}

// Rows of `z` (in split-list order) for this rank's local rows, as in-memory LocalRows.
LocalRows local_part(const std::string& name, const Matrix& z, const std::vector<std::int64_t>& split_rows,
                     const std::vector<std::int64_t>& local_rows, std::int64_t chunk_rows) {
  std::unordered_map<std::int64_t, Eigen::Index> position;
  for (std::size_t i = 0; i < split_rows.size(); ++i) position[split_rows[i]] = static_cast<Eigen::Index>(i);
  RowMatrix mine(static_cast<Eigen::Index>(local_rows.size()), z.cols());
  for (std::size_t i = 0; i < local_rows.size(); ++i) mine.row(static_cast<Eigen::Index>(i)) = z.row(position.at(local_rows[i]));
  return LocalRows(name, std::move(mine), local_rows, chunk_rows);
}

}  // namespace

RowSpace reduce_to_row_space(const boost::mpi::communicator& comm, const store::FeatureSet& set,
                             const std::vector<std::int64_t>& train_rows, const std::vector<std::int64_t>& test_rows,
                             const std::vector<std::int64_t>& local_train, const std::vector<std::int64_t>& local_test,
                             const ProbeConfig& config) {
  const auto n = static_cast<Eigen::Index>(train_rows.size());
  const auto n_test = static_cast<Eigen::Index>(test_rows.size());
  const auto columns = par::block_of(set.columns(), comm.rank(), comm.size());
  // [G | C'] = X_train [X_train; X_test]' summed over the ranks' column blocks: n x (n + n_test).
  Matrix grams = Matrix::Zero(n, n + n_test);
  std::string error;
  try {
    if (columns.size() > 0) {
      store::FeatureReader reader(store::column_slice(set, columns.begin, columns.size()));
      Matrix train = read_listed_rows(reader, train_rows, config.chunk_rows);
      Matrix test = read_listed_rows(reader, test_rows, config.chunk_rows);
      if (config.scaler == "paper") {
        standardise_columns(test, test);
      } else {
        standardise_columns(test, train);
      }
      standardise_columns(train, train);
      syrk_lower_add(grams.leftCols(n), train);  // the lower triangle of G is all the eigensolver reads
      gemm_nt_add(grams.rightCols(n_test), train, test);
    }
    par::test_fault_point("probe");
  } catch (const std::exception& e) {
    error = e.what();
  }
  try {
    par::check_all(comm, error);
  } catch (const Error& e) {
    throw ProbeError(e.what());
  }
  par::all_reduce_sum(comm, std::span<double>(grams.data(), static_cast<std::size_t>(grams.size())));

  // G = P L L' P' (pivoted Cholesky, stopped at pivots <= 1e-12 of the largest diagonal): the
  // r pivot rows span the train rows up to that tolerance, V = X_piv' L11^(-T) is an
  // orthonormal basis of their span, Z = X V = P L and Z_test = X_test V = C[:, piv] L11^(-T).
  Matrix z_train, z_test;
  Eigen::Index kept = 0;
  const double largest = n > 0 ? grams.leftCols(n).diagonal().maxCoeff() : 0.0;
  PivotedCholesky chol;
  try {
    chol = pivoted_cholesky(grams.leftCols(n), 1e-12 * largest);
  } catch (const Error& e) {
    throw ProbeError("feature set '" + set.name + "': factorisation of the train Gram: " + e.what());
  }
  kept = largest > 0 ? chol.rank : 0;
  z_train.resize(n, kept);
  for (Eigen::Index i = 0; i < n; ++i) z_train.row(chol.pivots[static_cast<std::size_t>(i)]) = chol.factor.row(i);
  Matrix cross(n_test, kept);  // C[:, pivots[0..r)]
  for (Eigen::Index j = 0; j < kept; ++j) cross.col(j) = grams.row(chol.pivots[static_cast<std::size_t>(j)]).tail(n_test).transpose();
  const auto l11 = chol.factor.topRows(kept).triangularView<Eigen::Lower>();
  z_test = l11.solve(cross.transpose()).transpose();
  if (kept == 0) {  // every column constant: one zero column keeps the solvers' shapes valid
    z_train = Matrix::Zero(n, 1);
    z_test = Matrix::Zero(n_test, 1);
  }
  // Train rows in pivot order: row piv[i] of Z is 0 beyond column i, so consecutive rows
  // share their extent and the logistic probe's products skip the zeros (half the work).
  std::vector<Eigen::Index> position(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) position[static_cast<std::size_t>(chol.pivots[static_cast<std::size_t>(i)])] = i;
  std::unordered_map<std::int64_t, Eigen::Index> split_position;
  for (std::size_t i = 0; i < train_rows.size(); ++i) split_position[train_rows[i]] = static_cast<Eigen::Index>(i);
  std::vector<std::int64_t> pivot_order = local_train;
  std::sort(pivot_order.begin(), pivot_order.end(), [&](auto a, auto b) {
    return position[static_cast<std::size_t>(split_position.at(a))] < position[static_cast<std::size_t>(split_position.at(b))];
  });
  LocalRows train = local_part(set.name, z_train, train_rows, pivot_order, config.chunk_rows);
  if (kept > 0) {
    std::vector<Eigen::Index> extents;
    for (const auto id : pivot_order)
      extents.push_back(std::min(kept, position[static_cast<std::size_t>(split_position.at(id))] + 1));
    train.set_row_extents(std::move(extents));
  }
  return {std::move(train), local_part(set.name, z_test, test_rows, local_test, config.chunk_rows), kept};
}

}  // namespace cfma::probe
