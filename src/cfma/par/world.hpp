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
// Collective: runs `work` on rank 0 only, then every rank learns whether it threw (check_all)
// and throws its message. For root-only writes: a bare barrier after them leaves the other
// ranks waiting forever when rank 0 fails.
template <class F>
void on_root(const boost::mpi::communicator& comm, F&& work) {
  std::string error;
  if (comm.rank() == 0) {
    try {
      work();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  check_all(comm, error);
}

// Collective: true on every rank when a stop signal reached any rank (core/stop_signal.hpp).
// Stages call it at the boundary of a unit of work, where every rank takes part. Test-only:
// $CFMA_TEST_UNIT_DELAY_MS sleeps that long first (signals land mid-stage on tiny data).
bool stop_agreed(const boost::mpi::communicator& comm);

}  // namespace cfma::par
