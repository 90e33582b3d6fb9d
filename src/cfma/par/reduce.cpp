#include "cfma/par/reduce.hpp"

#include <algorithm>

#include <mpi.h>

namespace cfma::par {

namespace {
template <class T>
void reduce_in_place(const boost::mpi::communicator& comm, std::span<T> values, MPI_Datatype type) {
  if (comm.size() == 1 || values.empty()) return;
  // In slices of 2^22 elements: MPI counts are int, and Open MPI's all-reduce allocates a
  // temporary of half its count even in place (measured: +1 GiB for a 2 GiB slice on 2 ranks,
  // +16 MiB for 32 MiB slices, which also ran faster), memory the similarity plan's bound
  // on accumulators does not hold.
  constexpr std::size_t max_count = std::size_t{1} << 22;
  for (std::size_t off = 0; off < values.size(); off += max_count) {
    const auto count = static_cast<int>(std::min(max_count, values.size() - off));
    MPI_Allreduce(MPI_IN_PLACE, values.data() + off, count, type, MPI_SUM, MPI_Comm(comm));
  }
}
}  // namespace

void all_reduce_sum(const boost::mpi::communicator& comm, std::span<double> values) {
  reduce_in_place(comm, values, MPI_DOUBLE);
}
void all_reduce_sum(const boost::mpi::communicator& comm, std::span<float> values) {
  reduce_in_place(comm, values, MPI_FLOAT);
}
void all_reduce_sum(const boost::mpi::communicator& comm, std::span<std::int64_t> values) {
  reduce_in_place(comm, values, MPI_INT64_T);
}
double all_reduce_sum(const boost::mpi::communicator& comm, double value) {
  all_reduce_sum(comm, std::span<double>(&value, 1));
  return value;
}
std::int64_t all_reduce_sum(const boost::mpi::communicator& comm, std::int64_t value) {
  all_reduce_sum(comm, std::span<std::int64_t>(&value, 1));
  return value;
}

namespace {
template <class T>
std::vector<T> gather_varying(const boost::mpi::communicator& comm, std::span<const T> local, std::span<const int> counts,
                              MPI_Datatype type) {
  std::vector<int> displacements(counts.size(), 0);
  long long total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    displacements[r] = static_cast<int>(total);
    total += counts[r];
  }
  std::vector<T> all(static_cast<std::size_t>(total));
  if (comm.size() == 1) {
    std::copy(local.begin(), local.end(), all.begin());
    return all;
  }
  MPI_Allgatherv(local.data(), static_cast<int>(local.size()), type, all.data(), counts.data(), displacements.data(),
                 type, MPI_Comm(comm));
  return all;
}

template <class T>
std::vector<double> row_sum(std::span<const T> rows, std::size_t width) {
  std::vector<double> sum(width, 0.0);
  for (std::size_t offset = 0; offset + width <= rows.size(); offset += width)
    for (std::size_t k = 0; k < width; ++k) sum[k] += static_cast<double>(rows[offset + k]);
  return sum;
}
}  // namespace

std::vector<float> all_gather_varying(const boost::mpi::communicator& comm, std::span<const float> local,
                                      std::span<const int> counts) {
  return gather_varying(comm, local, counts, MPI_FLOAT);
}
std::vector<double> all_gather_varying(const boost::mpi::communicator& comm, std::span<const double> local,
                                       std::span<const int> counts) {
  return gather_varying(comm, local, counts, MPI_DOUBLE);
}

std::vector<double> ordered_row_sum(std::span<const double> rows, std::size_t width) { return row_sum(rows, width); }
std::vector<double> ordered_row_sum(std::span<const float> rows, std::size_t width) { return row_sum(rows, width); }

std::vector<double> all_ordered_row_sum(const boost::mpi::communicator& comm, std::span<const double> local,
                                        std::size_t width, std::span<const std::int64_t> rows_per_rank) {
  std::vector<int> counts;
  for (const auto rows : rows_per_rank) counts.push_back(static_cast<int>(rows * static_cast<std::int64_t>(width)));
  const auto all = all_gather_varying(comm, local, counts);
  return ordered_row_sum(std::span<const double>(all), width);
}

}  // namespace cfma::par
