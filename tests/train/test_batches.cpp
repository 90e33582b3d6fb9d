// The data-parallel batch contract (batches.hpp) and the stop-signal flag (signals.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <numeric>

#include "cfma/train/batches.hpp"
#include "cfma/train/signals.hpp"
#include "cfma/train/train_config.hpp"

namespace cfma::train {
namespace {

std::vector<std::int64_t> rows_0_to(std::int64_t n, std::int64_t step = 1) {
  std::vector<std::int64_t> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back(i * step);
  return v;
}

TEST(Batches, EpochOrderIsASeededPermutation) {
  const auto rows = rows_0_to(50, 3);
  const auto a = epoch_order(rows, 1, 0, true);
  EXPECT_EQ(a, epoch_order(rows, 1, 0, true));  // deterministic
  EXPECT_NE(a, rows);
  EXPECT_NE(a, epoch_order(rows, 1, 1, true));  // another epoch
  EXPECT_NE(a, epoch_order(rows, 2, 0, true));  // another seed
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, rows);
  EXPECT_EQ(epoch_order(rows, 1, 0, false), rows);  // no shuffle: stored order
}

TEST(Batches, LocalSlicesTileEachGlobalBatchForAnyRankCount) {
  const auto order = epoch_order(rows_0_to(37), 5, 2, true);
  const int batch = 8;
  ASSERT_EQ(batch_count(37, batch), 5);
  EXPECT_EQ(global_batch_rows(37, 4, batch), 5);  // last batch is short
  for (int size : {1, 2, 3, 4, 8}) {
    for (std::int64_t b = 0; b < batch_count(37, batch); ++b) {
      std::vector<std::int64_t> joined;
      for (int r = 0; r < size; ++r) {
        const auto s = local_slice(order, b, batch, r, size);
        joined.insert(joined.end(), s.begin(), s.end());
      }
      const std::vector<std::int64_t> expected(order.begin() + b * batch,
                                               order.begin() + b * batch + global_batch_rows(37, b, batch));
      EXPECT_EQ(joined, expected) << "batch " << b << " over " << size << " ranks";
    }
  }
}

TEST(Signals, StopSignalsOnlySetAFlag) {
  install_stop_signal_handlers();
  clear_stop_request();
  EXPECT_FALSE(stop_requested());
  std::raise(SIGUSR1);
  EXPECT_TRUE(stop_requested());
  clear_stop_request();
  std::raise(SIGTERM);
  EXPECT_TRUE(stop_requested());
  clear_stop_request();
  EXPECT_FALSE(stop_requested());
}

TEST(Batches, MicroBatchPlanIsTheSameMicroBatchesOnAnyRankCount) {
  // A global batch of 30 rows in micro-batches of 8: [0,8) [8,16) [16,24) [24,30), whatever
  // the rank count; ranks take consecutive blocks of them, rank order = micro-batch order.
  const std::vector<std::int64_t> expected_sizes = {8, 8, 8, 6};
  for (const int size : {1, 2, 3, 4, 6}) {
    std::vector<std::int64_t> sizes;
    std::int64_t next_row = 0, micro_total = 0;
    for (int r = 0; r < size; ++r) {
      const auto plan = micro_batch_plan(30, 8, r, size);
      ASSERT_EQ(static_cast<int>(plan.micro_per_rank.size()), size);
      EXPECT_EQ(plan.micro_per_rank[static_cast<std::size_t>(r)], static_cast<std::int64_t>(plan.local_rows.size()));
      EXPECT_EQ(plan.row_begin, next_row) << "rank " << r << " of " << size;
      std::int64_t rows = 0;
      for (const auto n : plan.local_rows) rows += n, sizes.push_back(n);
      EXPECT_EQ(plan.row_end - plan.row_begin, rows);
      next_row = plan.row_end;
      micro_total += plan.micro_per_rank[static_cast<std::size_t>(r)];
    }
    EXPECT_EQ(next_row, 30) << size << " ranks";
    EXPECT_EQ(micro_total, 4);
    EXPECT_EQ(sizes, expected_sizes) << size << " ranks";
  }
  // More ranks than micro-batches: the last ones have none (and an empty row range).
  const auto idle = micro_batch_plan(30, 8, 5, 6);
  EXPECT_TRUE(idle.local_rows.empty());
  EXPECT_EQ(idle.row_begin, idle.row_end);
}

TEST(TrainConfig, RunMatrixOrderAndNames) {
  TrainConfig c;
  c.architectures = {"regular", "deformable"};
  c.tasks = {"family", "pitch"};
  c.seeds = {1, 2};
  const auto runs = run_matrix(c);
  ASSERT_EQ(runs.size(), 8u);
  EXPECT_EQ(runs.front().name(), "regular-family-s1");
  EXPECT_EQ(runs[1].name(), "regular-family-s2");
  EXPECT_EQ(runs[2].name(), "regular-pitch-s1");
  EXPECT_EQ(runs.back().name(), "deformable-pitch-s2");
}

}  // namespace
}  // namespace cfma::train
