// Test entry point: MPI world + GoogleTest. Under mpiexec every rank runs every test; only
// rank 0 prints GoogleTest's output, and a failure on any rank fails the run (exit code).
#include <gtest/gtest.h>

#include "cfma/core/log.hpp"
#include "cfma/par/world.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/operations.hpp>

int main(int argc, char** argv) {
  cfma::par::World world(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  cfma::init_logging(cfma::par::World::rank(), cfma::par::World::size());
  spdlog::set_level(spdlog::level::warn);
  if (cfma::par::World::rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const int local_failed = RUN_ALL_TESTS();
  int any_failed = 0;
  boost::mpi::all_reduce(cfma::par::World::comm(), local_failed, any_failed, boost::mpi::maximum<int>());
  return any_failed;
}
