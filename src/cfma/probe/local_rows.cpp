#include "cfma/probe/local_rows.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "cfma/core/error.hpp"
#include "cfma/par/reduce.hpp"
#include "cfma/par/world.hpp"

namespace cfma::probe {

LocalRows::LocalRows(store::FeatureSet set, std::vector<std::int64_t> sorted_rows,
                     std::int64_t chunk_rows, bool in_memory)
    : reader_(std::move(set)), rows_(std::move(sorted_rows)), chunk_rows_(std::max<std::int64_t>(1, chunk_rows)),
      in_memory_(in_memory) {
  cols_ = reader_.set().columns();
  if (!std::is_sorted(rows_.begin(), rows_.end()))
    throw ProbeError("feature set '" + reader_.set().name + "': local rows not ascending");
}

namespace {
store::FeatureSet named_set(const std::string& name) {
  store::FeatureSet set;
  set.name = name;
  return set;
}
}  // namespace

LocalRows::LocalRows(const std::string& name, RowMatrix data, std::vector<std::int64_t> sorted_rows,
                     std::int64_t chunk_rows)
    : reader_(named_set(name)), rows_(std::move(sorted_rows)), cols_(data.cols()),
      chunk_rows_(std::max<std::int64_t>(1, chunk_rows)), in_memory_(true), loaded_(true), data_(std::move(data)) {
  if (static_cast<std::int64_t>(rows_.size()) != data_.rows())
    throw ProbeError("feature set '" + name + "': " + std::to_string(data_.rows()) + " rows of data for " +
                     std::to_string(rows_.size()) + " row ids");
}

void LocalRows::standardise(const Eigen::VectorXd& shift, const Eigen::VectorXd& inv_scale) {
  if (shift.size() != cols_ || inv_scale.size() != cols_)
    throw ProbeError("feature set '" + reader_.set().name + "': standardisation has " +
                     std::to_string(shift.size()) + " columns, set has " + std::to_string(cols_));
  if (scaled_) throw ProbeError("feature set '" + reader_.set().name + "': standardised twice");
  shift_ = shift;
  inv_scale_ = inv_scale;
  scaled_ = true;
  if (in_memory_ && loaded_)
    data_ = ((data_.rowwise() - shift_.transpose()).array().rowwise() * inv_scale_.transpose().array()).matrix();
}

void LocalRows::set_row_extents(std::vector<Eigen::Index> extents) {
  if (!in_memory_ || static_cast<std::int64_t>(extents.size()) != rows())
    throw ProbeError("feature set '" + name() + "': row extents need in-memory rows, one per row");
  extents_ = std::move(extents);
}

Eigen::Index LocalRows::extent_of(std::int64_t first, std::int64_t count) const {
  if (extents_.empty() || count <= 0) return cols_;
  return *std::max_element(extents_.begin() + first, extents_.begin() + first + count);
}

void LocalRows::for_each_chunk(const std::function<void(std::int64_t, const ConstRowBlock&)>& f) {
  const std::int64_t n = rows();
  if (in_memory_) {
    if (!loaded_) {
      data_.resize(n, cols_);
      if (n > 0) reader_.read_rows(rows_, {data_.data(), static_cast<std::size_t>(data_.size())});
      loaded_ = true;
      if (scaled_)
        data_ = ((data_.rowwise() - shift_.transpose()).array().rowwise() * inv_scale_.transpose().array()).matrix();
    }
    for (std::int64_t begin = 0; begin < n; begin += chunk_rows_) {
      const std::int64_t count = std::min(chunk_rows_, n - begin);
      f(begin, data_.middleRows(begin, count));
    }
    return;
  }
  for (std::int64_t begin = 0; begin < n; begin += chunk_rows_) {
    const std::int64_t count = std::min(chunk_rows_, n - begin);
    data_.resize(count, cols_);
    reader_.read_rows(std::span<const std::int64_t>(rows_).subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(count)),
                      {data_.data(), static_cast<std::size_t>(data_.size())});
    if (scaled_)
      data_ = ((data_.rowwise() - shift_.transpose()).array().rowwise() * inv_scale_.transpose().array()).matrix();
    f(begin, data_);
  }
}

Eigen::VectorXd ColumnStats::inv_scale() const {
  Eigen::VectorXd s(sd.size());
  for (Eigen::Index j = 0; j < sd.size(); ++j)
    s[j] = sd[j] > 1e-10 * std::max(1.0, std::abs(mean[j])) ? 1.0 / sd[j] : 1.0;
  return s;
}

ColumnStats column_stats(const boost::mpi::communicator& comm, LocalRows& rows) {
  const Eigen::Index d = rows.cols();
  ColumnStats stats;
  // Pass 1: [count, column sums]
  Eigen::VectorXd buffer = Eigen::VectorXd::Zero(d + 1);
  std::string error;
  try {
    rows.for_each_chunk([&](std::int64_t, const ConstRowBlock& x) {
      buffer[0] += static_cast<double>(x.rows());
      buffer.tail(d) += x.colwise().sum().transpose();
    });
  } catch (const std::exception& e) {
    error = e.what();
  }
  par::check_all(comm, error);
  par::all_reduce_sum(comm, {buffer.data(), static_cast<std::size_t>(buffer.size())});
  stats.count = static_cast<std::int64_t>(buffer[0]);
  if (stats.count == 0) throw ProbeError("column statistics of an empty split");
  stats.mean = buffer.tail(d) / buffer[0];
  // Pass 2: centred sums of squares.
  Eigen::VectorXd squares = Eigen::VectorXd::Zero(d);
  par::all_or_none(comm, [&] {  // a failed read on one rank stops every rank before the reduction
    rows.for_each_chunk([&](std::int64_t, const ConstRowBlock& x) {
      squares += (x.rowwise() - stats.mean.transpose()).colwise().squaredNorm().transpose();
    });
  });
  par::all_reduce_sum(comm, {squares.data(), static_cast<std::size_t>(squares.size())});
  stats.sd = (squares / static_cast<double>(stats.count)).cwiseSqrt();
  return stats;
}

}  // namespace cfma::probe
