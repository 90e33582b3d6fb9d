#pragma once
// Sum-reductions of plain buffers across ranks (in place). Doubles are reduced in a fixed
// order by MPI_Allreduce; to make results independent of P, callers reduce partial sums that
// are themselves computed in a P-independent way where bitwise identity matters.
#include <cstdint>
#include <span>
#include <vector>

#include <boost/mpi/communicator.hpp>

namespace cfma::par {

void all_reduce_sum(const boost::mpi::communicator& comm, std::span<double> values);
void all_reduce_sum(const boost::mpi::communicator& comm, std::span<float> values);
void all_reduce_sum(const boost::mpi::communicator& comm, std::span<std::int64_t> values);
double all_reduce_sum(const boost::mpi::communicator& comm, double value);
std::int64_t all_reduce_sum(const boost::mpi::communicator& comm, std::int64_t value);

// Collective (MPI_Allgatherv): every rank's `local` values, rank 0's first; `counts[r]` is the
// number rank r sends (every rank passes the same counts).
std::vector<float> all_gather_varying(const boost::mpi::communicator& comm, std::span<const float> local,
                                      std::span<const int> counts);
std::vector<double> all_gather_varying(const boost::mpi::communicator& comm, std::span<const double> local,
                                       std::span<const int> counts);

// Sum of rows that lie in rank order (rank r holds rows_per_rank[r] consecutive rows of one
// global sequence, each `width` values), added one by one in the sequence's order in float64,
// so the result has the same bits whatever number of ranks holds the rows.
std::vector<double> ordered_row_sum(std::span<const double> rows, std::size_t width);
std::vector<double> ordered_row_sum(std::span<const float> rows, std::size_t width);
// Collective: gathers every rank's rows (all_gather_varying) and returns ordered_row_sum.
std::vector<double> all_ordered_row_sum(const boost::mpi::communicator& comm, std::span<const double> local,
                                        std::size_t width, std::span<const std::int64_t> rows_per_rank);

}  // namespace cfma::par
