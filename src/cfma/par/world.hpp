#pragma once
// The MPI world (Boost.MPI) and block sharding. Rank r of P owns the contiguous block
// [begin, end) of any index list of length n: the first n % P ranks get one extra item.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>

namespace cfma::par {

struct Block {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::int64_t size() const { return end - begin; }
};

Block block_of(std::int64_t n, int rank, int size);

// Process-wide MPI environment; created once by the CLI (or a test main).
class World {
 public:
  World(int& argc, char**& argv);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  static boost::mpi::communicator& comm();
  static int rank();
  static int size();

 private:
  // A process started without mpirun/srun (a singleton: unit tests, `cfma config check`) gets
  // its own Open MPI session directory: concurrent singletons otherwise race to create and
  // remove the shared /tmp/ompi.<host>.<uid> and one fails in MPI_Init ("File exists").
  std::filesystem::path singleton_tmpdir_;
  std::unique_ptr<boost::mpi::environment> env_;
};

// A job-unique tag chosen by rank 0 and broadcast (used for temporary file names).
std::string shared_tag(const boost::mpi::communicator& comm);

// Throws on every rank when any rank reports failure: lets a job stop cleanly (all ranks
// leave the collective section together) after a rank-local error. The message of the
// lowest failing rank is propagated, prefixed with its rank.
void check_all(const boost::mpi::communicator& comm, const std::string& local_error);
// The agreement of check_all without the throw: "" when no rank failed, else the message of
// the lowest failing rank (prefixed with its rank) on every rank.
std::string agreed_error(const boost::mpi::communicator& comm, const std::string& local_error);
// True while the latest agreement (check_all, agreed_error) on this process found a failure:
// an exception unwinding from it is known to every rank, so collective cleanup (closing a
// parallel HDF5 file) is safe. Any other exception may be this rank's alone.
bool unwinding_agreed_failure();
// Set when an HDF5 file stays open: abandoned by a rank unwinding from an error the others may
// not share (a collective close would hang), or a close that failed (disk full while flushing:
// HDF5 then keeps a half-closed file). HDF5 touches such a file again at MPI_Finalize or exit
// and crashes, so the CLI ends the process without either after printing the error.
void note_unclosed_hdf5_file();
bool unclosed_hdf5_file();
// Collective: runs `work` on every rank, then every rank learns whether some rank threw
// (check_all) and throws the lowest failing rank's message. For rank-local work before a
// collective: a rank that throws there would leave the others waiting inside it.
template <class F>
void all_or_none(const boost::mpi::communicator& comm, F&& work) {
  std::string error;
  try {
    work();
  } catch (const std::exception& e) {
    error = e.what();
  }
  check_all(comm, error);
}
// Collective: runs `work` on rank 0 only, then every rank learns whether it threw. For
// root-only writes: a bare barrier after them leaves the other ranks waiting forever when
// rank 0 fails.
template <class F>
void on_root(const boost::mpi::communicator& comm, F&& work) {
  all_or_none(comm, [&] {
    if (comm.rank() == 0) work();
  });
}

// Collective: true on every rank when a stop signal reached any rank (core/stop_signal.hpp).
// Stages call it at the boundary of a unit of work, where every rank takes part. Test-only:
// $CFMA_TEST_UNIT_DELAY_MS sleeps that long first (signals land mid-stage on tiny data).
bool stop_agreed(const boost::mpi::communicator& comm);
// Test-only: sleeps $CFMA_TEST_UNIT_DELAY_MS (unset: returns at once). stop_agreed calls it; so
// does the training loop once per step (its stop vote travels in the step's all-reduce).
void test_unit_delay();

}  // namespace cfma::par
