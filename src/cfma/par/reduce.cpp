#include "cfma/par/reduce.hpp"

#include <mpi.h>

namespace cfma::par {

namespace {
template <class T>
void reduce_in_place(const boost::mpi::communicator& comm, std::span<T> values, MPI_Datatype type) {
  if (comm.size() == 1 || values.empty()) return;
  // MPI counts are int: reduce in slices so buffers above 2^31 elements still work.
  constexpr std::size_t max_count = std::size_t{1} << 30;
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

}  // namespace cfma::par
