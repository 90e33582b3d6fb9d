#include "cfma/probe/row_space.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_map>

#include <Eigen/Eigenvalues>

#include "cfma/core/error.hpp"
#include "cfma/par/reduce.hpp"
#include "cfma/par/test_fault.hpp"
#include "cfma/par/world.hpp"

namespace cfma::probe {
namespace {

using Matrix = Eigen::MatrixXd;

// Columns [col_begin, col_begin + width) of the listed rows, in list order (rows x width).
Matrix read_column_block(store::FeatureReader& reader, const std::vector<std::int64_t>& rows,
                         std::int64_t col_begin, std::int64_t width, std::int64_t chunk_rows) {
  std::vector<std::size_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return rows[a] < rows[b]; });
  const std::int64_t d = reader.set().columns();
  Matrix block(static_cast<Eigen::Index>(rows.size()), width);
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
          Eigen::Map<const Eigen::RowVectorXd>(buffer.data() + (k - begin) * static_cast<std::size_t>(d) + col_begin, width);
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
      store::FeatureReader reader(set);
      Matrix train = read_column_block(reader, train_rows, columns.begin, columns.size(), config.chunk_rows);
      Matrix test = read_column_block(reader, test_rows, columns.begin, columns.size(), config.chunk_rows);
      if (config.scaler == "paper") {
        standardise_columns(test, test);
      } else {
        standardise_columns(test, train);
      }
      standardise_columns(train, train);
      grams.leftCols(n).noalias() = train * train.transpose();
      grams.rightCols(n_test).noalias() = train * test.transpose();
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

  const Eigen::SelfAdjointEigenSolver<Matrix> eigen(grams.leftCols(n));
  if (eigen.info() != Eigen::Success)
    throw ProbeError("feature set '" + set.name + "': eigendecomposition of the train Gram failed");
  const Eigen::VectorXd& values = eigen.eigenvalues();  // ascending
  const double largest = values.size() > 0 ? std::max(values[n - 1], 0.0) : 0.0;
  Eigen::Index kept = 0;
  while (kept < n && values[n - 1 - kept] > 1e-12 * largest && largest > 0) ++kept;
  // The kept eigenvectors, largest first; Z = U L^(1/2), Z_test = C U L^(-1/2).
  const Matrix u = eigen.eigenvectors().rightCols(kept).rowwise().reverse();
  const Eigen::VectorXd root = values.tail(kept).reverse().cwiseSqrt();
  Matrix z_train = u * root.asDiagonal();
  Matrix z_test = grams.rightCols(n_test).transpose() * u * root.cwiseInverse().asDiagonal();
  if (kept == 0) {  // every column constant: one zero column keeps the solvers' shapes valid
    z_train = Matrix::Zero(n, 1);
    z_test = Matrix::Zero(n_test, 1);
  }
  return {local_part(set.name, z_train, train_rows, local_train, config.chunk_rows),
          local_part(set.name, z_test, test_rows, local_test, config.chunk_rows), kept};
}

}  // namespace cfma::probe
