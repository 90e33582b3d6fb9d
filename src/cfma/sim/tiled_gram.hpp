#pragma once
// The lower triangle of a symmetric D x D matrix G = Z Z' (Z: D x rows, column = example),
// kept as square tiles so that only the lower half takes memory (and all-reduce traffic):
// tile (ti, tj), ti >= tj, holds G[ti*T .. , tj*T ..] column-major, tiles packed one after
// another in the order (0,0) (1,0) (1,1) (2,0) ... Diagonal tiles are full squares of which only
// the lower triangle is valid. Memory: about 8 (D^2 + D T) / 2 bytes.
//
// Accumulation runs one SYRK per diagonal tile and one GEMM per tile below it, each at least
// T x T x rows, so the BLAS runs near its peak for any mix of set widths (the stacked sets of the
// similarity job: every Gram X_i'X_i and every cross product X_i'X_j in one pass). With several
// threads the tile products run concurrently, one single-threaded BLAS call per thread, largest
// first: independent products scale across cores better than OpenBLAS's own split of one product
// (about 1.85x against 1.2-1.65x on 2 cores here; bench/README.md).
#include <cstddef>

#include <Eigen/Dense>

namespace cfma::sim {

class TiledGram {
 public:
  static constexpr Eigen::Index default_tile = 1024;
  TiledGram() = default;
  explicit TiledGram(Eigen::Index dim, Eigen::Index tile = default_tile);

  Eigen::Index dim() const { return dim_; }
  Eigen::Index tile() const { return tile_; }
  std::size_t size() const { return size_; }  // doubles of storage
  // Multiply-adds per row of Z that add() runs (diagonal tiles count half: SYRK).
  double multiply_adds_per_row() const;

  // store += lower tiles of Z Z' (Z: dim() x rows, any outer stride), on `threads` threads
  // (0: the BLAS thread count of this process, core/blas_runtime.hpp).
  void add(double* store, const Eigen::Ref<const Eigen::MatrixXd>& z, int threads = 0) const;
  // Dense copy of G[r0 : r0+rows, c0 : c0+cols] (either side of the diagonal).
  Eigen::MatrixXd block(const double* store, Eigen::Index r0, Eigen::Index rows, Eigen::Index c0,
                        Eigen::Index cols) const;
  // ||G[r0 : r0+rows, c0 : c0+cols]||_F^2, read in place.
  double squared_norm(const double* store, Eigen::Index r0, Eigen::Index rows, Eigen::Index c0,
                      Eigen::Index cols) const;

 private:
  Eigen::Index tiles() const { return (dim_ + tile_ - 1) / tile_; }
  Eigen::Index extent(Eigen::Index t) const;  // side of tile row/column t
  std::size_t offset(Eigen::Index ti, Eigen::Index tj) const;  // ti >= tj
  // Calls f(dest_row, dest_col, element value source) per stored piece of the rectangle: see
  // the .cpp (shared by block and squared_norm).
  template <class F>
  void visit(const double* store, Eigen::Index r0, Eigen::Index rows, Eigen::Index c0, Eigen::Index cols,
             F&& f) const;
  Eigen::Index dim_ = 0, tile_ = default_tile;
  std::size_t size_ = 0;
};

}  // namespace cfma::sim
