// Under mpiexec with 1, 2 and 4 ranks: the selection fixed on rank 0 and broadcast as JSON
// (the preprocess job's contract) equals what every rank computes itself, and reading each
// rank's block of notes covers the selection exactly once.
#include <gtest/gtest.h>

#include <boost/mpi/collectives.hpp>

#include "cfma/data/selection.hpp"
#include "cfma/par/world.hpp"
#include "tests/test_paths.hpp"

namespace cfma::data {
namespace {

TEST(MpiSelection, BroadcastSelectionMatchesEveryRanksOwn) {
  auto& comm = par::World::comm();
  const auto root = test::shared_dir() / "reference" / "nsynth-mini";
  DataConfig config;
  config.test_order = TestOrder::numpy;
  const auto own = select_examples(scan_dataset(root), config);

  std::string text;
  if (comm.rank() == 0) text = nlohmann::json(own).dump();
  boost::mpi::broadcast(comm, text, 0);
  const auto received = nlohmann::json::parse(text).get<Selection>();
  EXPECT_EQ(received.examples, own.examples);
  EXPECT_EQ(received.test, own.test);
  EXPECT_EQ(received.train, own.train);

  // Each rank reads its block; the energy summed over ranks equals rank 0's full pass.
  const auto n = static_cast<std::int64_t>(received.examples.size());
  const auto block = par::block_of(n, comm.rank(), comm.size());
  double local = 0;
  std::int64_t local_count = 0;
  for (auto i = block.begin; i < block.end; ++i) {
    for (float x : read_note_audio(received.examples[static_cast<std::size_t>(i)], config)) local += x * x;
    ++local_count;
  }
  double total = 0;
  std::int64_t count = 0;
  boost::mpi::all_reduce(comm, local, total, std::plus<double>());
  boost::mpi::all_reduce(comm, local_count, count, std::plus<std::int64_t>());
  EXPECT_EQ(count, 24);
  double serial = 0;
  for (const auto& e : received.examples)
    for (float x : read_note_audio(e, config)) serial += x * x;
  EXPECT_NEAR(total, serial, 1e-9 * serial);
  EXPECT_GT(serial, 24.0);
}

}  // namespace
}  // namespace cfma::data
