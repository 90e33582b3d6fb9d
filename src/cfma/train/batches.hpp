#pragma once
// The data-parallel contract: every rank computes the same order of the training rows for an
// epoch (seeded permutation, or the stored order when shuffling is off), cuts it into global
// batches of `batch_size`, and takes its block (par::block_of) of each global batch. So a
// global batch holds the same examples whatever the number of ranks.
#include <cstdint>
#include <span>
#include <vector>

namespace cfma::train {

// Permutation of `rows` for (seed, epoch): Fisher-Yates over a 64-bit Mersenne Twister seeded
// from both, written out so that it does not depend on the standard library's shuffle.
std::vector<std::int64_t> epoch_order(std::span<const std::int64_t> rows, std::uint64_t seed,
                                      int epoch, bool shuffle);

std::int64_t batch_count(std::int64_t n, int batch_size);
// Rank's slice of global batch `b` of `order`.
std::vector<std::int64_t> local_slice(std::span<const std::int64_t> order, std::int64_t b,
                                      int batch_size, int rank, int size);
// Global batch size of batch `b` (the last one may be smaller).
std::int64_t global_batch_rows(std::int64_t n, std::int64_t b, int batch_size);

// Deterministic data parallelism: a global batch of `rows` is cut into micro-batches of
// `micro` rows on its own order (the last may be smaller), and the ranks take consecutive
// blocks of micro-batches (par::block_of), so a micro-batch holds the same rows whatever the
// number of ranks, and rank order is micro-batch order.
struct MicroBatchPlan {
  std::vector<std::int64_t> micro_per_rank;  // micro-batches of each rank
  std::vector<std::int64_t> local_rows;      // rows of each of this rank's micro-batches
  std::int64_t row_begin = 0, row_end = 0;   // this rank's rows within the global batch
};
MicroBatchPlan micro_batch_plan(std::int64_t rows, int micro, int rank, int size);

}  // namespace cfma::train
