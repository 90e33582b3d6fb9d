#pragma once
// Partial sums for all-pairs similarity, gathered per rank and combined by ONE all-reduce of a
// flat float64 buffer (design.md, "Reductions"). The formulas in measures.hpp are applied to
// the reduced sums; nothing here knows about files or MPI.
//
// Buffer layout (offsets fixed by the plan, identical on every rank). The feature-space sets
// are stacked into Z = [X_1 ... X_F] (F = those sets, D_Z = sum of their widths):
//   [n, minibatches]
//   column sums of Z (D_Z)
//   Z'Z, its lower triangle in square tiles (tiled_gram.hpp): rows/columns [offset(j), +D_j) x
//     [offset(i), +D_i) are X_j'X_i, so every Gram and every cross product comes from one pass of
//     large BLAS products over each chunk, whatever the widths of the sets
//   if debiased:  sum_a (S), sum_ab (S x S), Z'A (D_Z x S)
//                 (a_r = squared norm of row r of each set; A = rows x S)
//   if minibatch: sum over minibatches of unbiased HSIC, S x S (i <= j filled),
//                 then the same for each permutation (permutations x S x S)
//   if row_moments: sum_r a_r^2 (S), Z'a of each set with its own a (D_Z): the exact
//                 permutation null of linear CKA (permutation_null.hpp)
// Memory: about 4 D_Z^2 bytes + O(S^2 (1 + permutations)).
#include <cstdint>
#include <span>
#include <vector>

#include "cfma/sim/measures.hpp"
#include "cfma/sim/tiled_gram.hpp"

namespace cfma::sim {

struct AccumulatorPlan {
  std::vector<Eigen::Index> dims;    // columns of each set
  std::vector<bool> feature_space;   // Gram/cross blocks for this set (D small enough)
  bool debiased = false;             // row-norm sums for the debiased CKA
  bool minibatch = false;            // per-minibatch unbiased HSIC for all pairs
  int permutations = 0;              // permuted-minibatch HSIC sums (p-values), minibatch only
  bool row_moments = false;          // fourth-moment sums (linear-CKA permutation null)
  std::uint64_t seed = 0;            // permutation seed
  std::size_t buffer_size() const;
};

using ConstMap = Eigen::Map<const Matrix>;

class Accumulator {
 public:
  explicit Accumulator(AccumulatorPlan plan);
  const AccumulatorPlan& plan() const { return plan_; }
  int sets() const { return static_cast<int>(plan_.dims.size()); }

  // Row range of feature-space set i in a stacked chunk, and the stacked height D_Z.
  Eigen::Index offset(int i) const { return offsets_[static_cast<std::size_t>(i)]; }
  Eigen::Index stacked_rows() const { return stacked_rows_; }
  // Adds a chunk of rows: `stacked` is D_Z x rows (column r = example r), set i's centred values
  // in rows [offset(i), offset(i) + D_i), feature-space sets only, in plan order.
  // `weights` (optional, size rows): per-row multiplicities (bootstrap).
  void add_rows(const Eigen::Ref<const Matrix>& stacked, const double* weights = nullptr);
  // Adds one minibatch's zero-diagonal Gram matrices K~ (one per set, b x b). `minibatch` is
  // its global index (seeds the permutations, so they do not depend on the rank count).
  // `pairs` (optional, S x S column-major): only pairs (i, j), i <= j, with pairs[i + j S] set
  // are computed (a job of a memory-bounded plan skips the pairs another job owns).
  void add_minibatch(std::int64_t minibatch, const std::vector<Matrix>& grams,
                     const std::vector<char>* pairs = nullptr);

  // The flat buffer to all-reduce (sum).
  std::span<double> buffer() { return buffer_; }

  // Accessors for the (reduced) sums.
  double rows() const { return buffer_[0]; }
  double minibatches() const { return buffer_[1]; }
  Vector column_sums(int i) const;
  Matrix gram(int i) const;             // full symmetric X_i'X_i
  Matrix cross(int i, int j) const;     // X_i'X_j (any order, i != j or i == j)
  // ||X_i'X_j||_F^2 and ||X_i'X_i||_F read in place (linear CKA needs only these).
  double cross_squared_norm(int i, int j) const;
  double gram_norm(int i) const;
  LinearKernelSums kernel_sums(int i, int j) const;  // needs debiased
  double minibatch_hsic(int i, int j) const;         // sum over minibatches
  double permuted_minibatch_hsic(int permutation, int i, int j) const;
  // sum_r ||x_r||^4 and sum_r ||x_r||^2 x_r of feature-space set i (needs row_moments).
  double row_norm4_sum(int i) const;
  Vector row_norm2_weighted_sum(int i) const;

 private:
  const double* block(std::size_t offset) const { return buffer_.data() + offset; }
  AccumulatorPlan plan_;
  std::vector<Eigen::Index> offsets_;  // row of each feature-space set in Z (-1 for the others)
  Eigen::Index stacked_rows_ = 0;
  TiledGram zz_;  // layout of Z'Z in buffer_
  std::vector<double> buffer_;
  // Offsets into buffer_ (see the layout above).
  struct Layout {
    std::size_t colsum_at = 0, gram_at = 0, weighted_at = 0;
    std::size_t sum_a_at = 0, sum_ab_at = 0, hsic_at = 0, norm4_at = 0, norm2_weighted_at = 0, size = 0;
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
