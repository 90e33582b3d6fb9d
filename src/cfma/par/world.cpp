#include "cfma/par/world.hpp"

#include "cfma/core/stop_signal.hpp"

#include <boost/mpi/collectives.hpp>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <unistd.h>

#include "cfma/core/error.hpp"

namespace cfma::par {

Block block_of(std::int64_t n, int rank, int size) {
  const std::int64_t base = n / size, extra = n % size;
  const std::int64_t begin = rank * base + std::min<std::int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

namespace {
boost::mpi::communicator* g_world = nullptr;
}

namespace {
std::filesystem::path prepare_singleton_tmpdir() {
  for (const char* launched : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "OMPI_MCA_orte_tmpdir_base"})
    if (std::getenv(launched)) return {};
  const char* tmp = std::getenv("TMPDIR");
  const auto dir = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") / ("cfma-ompi-" + std::to_string(::getpid()));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return {};  // fall back to Open MPI's default
  ::setenv("OMPI_MCA_orte_tmpdir_base", dir.c_str(), 1);
  return dir;
}
}  // namespace

World::World(int& argc, char**& argv)
    : singleton_tmpdir_(prepare_singleton_tmpdir()),
      env_(std::make_unique<boost::mpi::environment>(argc, argv, boost::mpi::threading::funneled)) {
  static boost::mpi::communicator world;
  g_world = &world;
}

World::~World() {
  env_.reset();  // MPI_Finalize
  if (!singleton_tmpdir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(singleton_tmpdir_, ignored);
  }
}

boost::mpi::communicator& World::comm() {
  if (!g_world) {
    // Library use without the CLI (tests with their own main create World first).
    throw Error("MPI world not initialised");
  }
  return *g_world;
}
int World::rank() { return comm().rank(); }
int World::size() { return comm().size(); }

std::string shared_tag(const boost::mpi::communicator& comm) {
  std::string tag;
  if (comm.rank() == 0) {
    const auto t = std::chrono::system_clock::now().time_since_epoch().count();
    tag = std::to_string(::getpid()) + "-" + std::to_string(t % 1000000007);
  }
  boost::mpi::broadcast(comm, tag, 0);
  return tag;
}

void test_unit_delay() {
  static const int delay_ms = [] {
    const char* v = std::getenv("CFMA_TEST_UNIT_DELAY_MS");
    return v ? std::atoi(v) : 0;
  }();
  if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
}

bool stop_agreed(const boost::mpi::communicator& comm) {
  test_unit_delay();
  const int here = stop_requested() ? 1 : 0;
  int any = 0;
  boost::mpi::all_reduce(comm, here, any, boost::mpi::maximum<int>());
  return any != 0;
}

namespace {
bool g_last_agreement_failed = false;
bool g_unclosed_hdf5_file = false;
}  // namespace

std::string agreed_error(const boost::mpi::communicator& comm, const std::string& local_error) {
  const int failed_here = local_error.empty() ? comm.size() : comm.rank();
  int first_failed = 0;
  boost::mpi::all_reduce(comm, failed_here, first_failed, boost::mpi::minimum<int>());
  g_last_agreement_failed = first_failed != comm.size();
  if (!g_last_agreement_failed) return {};
  std::string message = local_error;
  boost::mpi::broadcast(comm, message, first_failed);
  if (comm.size() > 1 && message.rfind("[rank ", 0) != 0)
    message = "[rank " + std::to_string(first_failed) + "] " + message;
  return message;
}

void check_all(const boost::mpi::communicator& comm, const std::string& local_error) {
  if (auto message = agreed_error(comm, local_error); !message.empty()) throw Error(message);
}

bool unwinding_agreed_failure() { return g_last_agreement_failed; }
void note_unclosed_hdf5_file() { g_unclosed_hdf5_file = true; }
bool unclosed_hdf5_file() { return g_unclosed_hdf5_file; }

}  // namespace cfma::par
