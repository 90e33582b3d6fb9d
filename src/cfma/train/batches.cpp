#include "cfma/train/batches.hpp"

#include <algorithm>
#include <random>

#include "cfma/par/world.hpp"

namespace cfma::train {

std::vector<std::int64_t> epoch_order(std::span<const std::int64_t> rows, std::uint64_t seed,
                                      int epoch, bool shuffle) {
  std::vector<std::int64_t> order(rows.begin(), rows.end());
  if (!shuffle || order.size() < 2) return order;
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(epoch) + 1);
  for (std::size_t i = order.size() - 1; i > 0; --i) {
    // Unbiased bounded draw by rejection (std::uniform_int_distribution's algorithm is
    // implementation-defined; this one is not).
    const std::uint64_t bound = i + 1;
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    std::uint64_t r;
    do r = rng(); while (r >= limit);
    std::swap(order[i], order[r % bound]);
  }
  return order;
}

std::int64_t batch_count(std::int64_t n, int batch_size) { return (n + batch_size - 1) / batch_size; }

std::int64_t global_batch_rows(std::int64_t n, std::int64_t b, int batch_size) {
  return std::min<std::int64_t>(batch_size, n - b * batch_size);
}

std::vector<std::int64_t> local_slice(std::span<const std::int64_t> order, std::int64_t b,
                                      int batch_size, int rank, int size) {
  const std::int64_t n = static_cast<std::int64_t>(order.size());
  const std::int64_t start = b * batch_size;
  const auto block = par::block_of(global_batch_rows(n, b, batch_size), rank, size);
  return {order.begin() + start + block.begin, order.begin() + start + block.end};
}

MicroBatchPlan micro_batch_plan(std::int64_t rows, int micro, int rank, int size) {
  MicroBatchPlan plan;
  const std::int64_t count = (rows + micro - 1) / micro;
  for (int r = 0; r < size; ++r) {
    const auto block = par::block_of(count, r, size);
    plan.micro_per_rank.push_back(block.end - block.begin);
    if (r != rank) continue;
    plan.row_begin = std::min<std::int64_t>(rows, block.begin * micro);
    plan.row_end = std::min<std::int64_t>(rows, block.end * micro);
    for (std::int64_t j = block.begin; j < block.end; ++j)
      plan.local_rows.push_back(std::min<std::int64_t>(rows, (j + 1) * micro) - j * micro);
  }
  return plan;
}

}  // namespace cfma::train
