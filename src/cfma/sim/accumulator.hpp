#pragma once
// Partial sums for all-pairs similarity, gathered per rank and combined by ONE all-reduce of a
// flat float64 buffer (design.md, "Reductions"). The formulas in measures.hpp are applied to
// the reduced sums; nothing here knows about files or MPI.
//
// Buffer layout (offsets fixed by the plan, identical on every rank):
//   [n, minibatches]
//   per feature-space set i:          column sums s_i (D_i), Gram X_i'X_i (D_i x D_i, lower)
//   per feature-space pair i < j:     cross X_i'X_j (D_i x D_j)
//   if debiased:  sum_a (S), sum_ab (S x S), per feature-space set i: X_i'A (D_i x S)
//                 (a_r = squared norm of row r of each set; A = rows x S)
//   if minibatch: sum over minibatches of unbiased HSIC, S x S (i <= j filled),
//                 then the same for each permutation (permutations x S x S)
// Memory: O(sum_ij D_i D_j) over feature-space sets + O(S^2 (1 + permutations)).
#include <cstdint>
#include <span>
#include <vector>

#include "cfma/sim/measures.hpp"

namespace cfma::sim {

struct AccumulatorPlan {
  std::vector<Eigen::Index> dims;    // columns of each set
  std::vector<bool> feature_space;   // Gram/cross blocks for this set (D small enough)
  bool debiased = false;             // row-norm sums for the debiased CKA
  bool minibatch = false;            // per-minibatch unbiased HSIC for all pairs
  int permutations = 0;              // permuted-minibatch HSIC sums (p-values), minibatch only
  std::uint64_t seed = 0;            // permutation seed
  std::size_t buffer_size() const;
};

using ConstMap = Eigen::Map<const Matrix>;

class Accumulator {
 public:
  explicit Accumulator(AccumulatorPlan plan);
  const AccumulatorPlan& plan() const { return plan_; }
  int sets() const { return static_cast<int>(plan_.dims.size()); }

  // Adds a chunk of rows. rows_t[i] is set i's chunk TRANSPOSED (D_i x rows, i.e. the reader's
  // row-major rows x D_i buffer viewed column-major), already centred. Only feature-space sets
  // are used. `weights` (optional, size rows): per-row multiplicities (bootstrap).
  void add_rows(const std::vector<ConstMap>& rows_t, const double* weights = nullptr);
  // Adds one minibatch's zero-diagonal Gram matrices K~ (one per set, b x b). `minibatch` is
  // its global index (seeds the permutations, so they do not depend on the rank count).
  void add_minibatch(std::int64_t minibatch, const std::vector<Matrix>& grams);

  // The flat buffer to all-reduce (sum).
  std::span<double> buffer() { return buffer_; }

  // Accessors for the (reduced) sums.
  double rows() const { return buffer_[0]; }
  double minibatches() const { return buffer_[1]; }
  Vector column_sums(int i) const;
  Matrix gram(int i) const;             // full symmetric X_i'X_i
  Matrix cross(int i, int j) const;     // X_i'X_j (any order, i != j or i == j)
  LinearKernelSums kernel_sums(int i, int j) const;  // needs debiased
  double minibatch_hsic(int i, int j) const;         // sum over minibatches
  double permuted_minibatch_hsic(int permutation, int i, int j) const;

 private:
  const double* block(std::size_t offset) const { return buffer_.data() + offset; }
  std::size_t pair_offset(int i, int j) const;  // i < j, both feature space
  AccumulatorPlan plan_;
  std::vector<double> buffer_;
  // Offsets into buffer_ (see the layout above).
  struct Layout {
    std::vector<std::size_t> colsum_at, gram_at, weighted_at;
    std::vector<std::size_t> cross_at;  // S x S table, valid for i < j
    std::size_t sum_a_at = 0, sum_ab_at = 0, hsic_at = 0, size = 0;
  };
  static Layout layout_of(const AccumulatorPlan& plan);
  friend struct AccumulatorPlan;
  Layout at_;
};

// The permutation of b rows used for (seed, minibatch, permutation): a seeded Fisher-Yates
// shuffle from a counter-based generator, so every rank derives the same one.
std::vector<Eigen::Index> minibatch_permutation(std::uint64_t seed, std::int64_t minibatch,
                                                int permutation, Eigen::Index b);

}  // namespace cfma::sim
