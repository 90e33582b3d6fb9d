#pragma once
// Sum-reductions of plain buffers across ranks (in place). Doubles are reduced in a fixed
// order by MPI_Allreduce; to make results independent of P, callers reduce partial sums that
// are themselves computed in a P-independent way where bitwise identity matters.
#include <cstdint>
#include <span>

#include <boost/mpi/communicator.hpp>

namespace cfma::par {

void all_reduce_sum(const boost::mpi::communicator& comm, std::span<double> values);
void all_reduce_sum(const boost::mpi::communicator& comm, std::span<float> values);
void all_reduce_sum(const boost::mpi::communicator& comm, std::span<std::int64_t> values);
double all_reduce_sum(const boost::mpi::communicator& comm, double value);
std::int64_t all_reduce_sum(const boost::mpi::communicator& comm, std::int64_t value);

}  // namespace cfma::par
