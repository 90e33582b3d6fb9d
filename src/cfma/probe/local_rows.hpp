#pragma once
// The rows of one feature set that this rank owns for one split: rank r of P takes
// par::block_of of the split's row list (in split order), sorted ascending for reading.
// Rows never leave their rank; every solver visits them chunk by chunk.
//
// Memory: when rows * columns * 8 bytes fits the budget the rows are read once and kept as
// double (row-major, standardised in place); otherwise every pass re-reads them from HDF5 in
// chunks of `chunk_rows` rows (chunk_rows * columns doubles held at a time).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <boost/mpi/communicator.hpp>

#include "cfma/store/feature_sets.hpp"

namespace cfma::probe {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstRowBlock = Eigen::Ref<const RowMatrix>;

class LocalRows {
 public:
  // `sorted_rows`: this rank's rows (ascending) of the set; `in_memory`: keep them in RAM.
  LocalRows(store::FeatureSet set, std::vector<std::int64_t> sorted_rows, std::int64_t chunk_rows,
            bool in_memory);
  // Rows already in memory (e.g. a row-space reduction, row_space.hpp), one per `sorted_rows`
  // entry; `name` names the set in errors.
  LocalRows(const std::string& name, RowMatrix data, std::vector<std::int64_t> sorted_rows, std::int64_t chunk_rows);

  std::int64_t rows() const { return static_cast<std::int64_t>(rows_.size()); }
  std::int64_t cols() const { return cols_; }
  const std::vector<std::int64_t>& row_ids() const { return rows_; }
  const std::string& name() const { return reader_.set().name; }
  // Optional, for in-memory rows: row i is 0 beyond its first extents[i] columns (the
  // row-space factor is triangular; the logistic probe then skips the zeros). Empty: dense.
  void set_row_extents(std::vector<Eigen::Index> extents);
  const std::vector<Eigen::Index>& row_extents() const { return extents_; }
  // Columns a block of rows [first, first + count) needs: the largest extent, or cols().
  Eigen::Index extent_of(std::int64_t first, std::int64_t count) const;
  bool in_memory() const { return in_memory_; }

  // From now on every chunk is (x - shift) .* inv_scale. Applied in place to in-memory rows
  // (call once).
  void standardise(const Eigen::VectorXd& shift, const Eigen::VectorXd& inv_scale);
  // Visits the rows in order, `chunk_rows` at a time: f(first local row, chunk).
  void for_each_chunk(const std::function<void(std::int64_t, const ConstRowBlock&)>& f);

 private:
  store::FeatureReader reader_;
  std::vector<std::int64_t> rows_;
  std::int64_t cols_ = 0;
  std::int64_t chunk_rows_ = 0;
  bool in_memory_ = false;
  bool loaded_ = false;
  RowMatrix data_;  // in-memory rows, or the current chunk when streaming
  std::vector<Eigen::Index> extents_;
  Eigen::VectorXd shift_, inv_scale_;
  bool scaled_ = false;
};

// Column statistics over all ranks' rows of a split (two passes: mean, then centred sum of
// squares; one all-reduce each). sd is the population sd (ddof 0, as StandardScaler).
struct ColumnStats {
  std::int64_t count = 0;
  Eigen::VectorXd mean;
  Eigen::VectorXd sd;
  // Standardisation that leaves zero-variance columns unscaled (sd -> 1): they become 0.
  // (A column counts as constant when sd <= 1e-10 * max(1, |mean|), i.e. rounding noise.)
  Eigen::VectorXd inv_scale() const;
};

// Collective over `comm`. Also the validation pass: a rank that fails to read its rows (NaN,
// missing file) makes every rank throw the same error instead of hanging in a reduction.
ColumnStats column_stats(const boost::mpi::communicator& comm, LocalRows& rows);

}  // namespace cfma::probe
