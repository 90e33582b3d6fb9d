#include "cfma/sim/tiled_gram.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "cfma/core/blas_runtime.hpp"
#include "cfma/core/blas.hpp"

namespace cfma::sim {

namespace {
using Matrix = Eigen::MatrixXd;
using Map = Eigen::Map<Matrix>;
using ConstMap = Eigen::Map<const Matrix>;
std::size_t to_size(Eigen::Index v) { return static_cast<std::size_t>(v); }
}  // namespace

TiledGram::TiledGram(Eigen::Index dim, Eigen::Index tile) : dim_(dim), tile_(tile) {
  if (dim < 0 || tile <= 0) throw std::invalid_argument("TiledGram: negative dimension or non-positive tile");
  size_ = dim_ == 0 ? 0 : offset(tiles() - 1, tiles() - 1) + to_size(extent(tiles() - 1) * extent(tiles() - 1));
}

Eigen::Index TiledGram::extent(Eigen::Index t) const { return std::min(tile_, dim_ - t * tile_); }

std::size_t TiledGram::offset(Eigen::Index ti, Eigen::Index tj) const {
  // Tile rows 0 .. ti-1 are full (every tile row but the last has side T); tile (ti, tj) follows
  // the tj tiles before it in row ti, which are extent(ti) x T each.
  const auto t = to_size(tile_);
  return to_size(ti) * to_size(ti + 1) / 2 * t * t + to_size(tj) * to_size(extent(ti)) * t;
}

double TiledGram::multiply_adds_per_row() const {
  double area = 0;
  for (Eigen::Index ti = 0; ti < tiles(); ++ti)
    for (Eigen::Index tj = 0; tj <= ti; ++tj)
      area += static_cast<double>(extent(ti) * extent(tj)) * (ti == tj ? 0.5 : 1.0);
  return area;
}

void TiledGram::add(double* store, const Eigen::Ref<const Matrix>& z, int threads) const {
  if (z.rows() != dim_) throw std::invalid_argument("TiledGram::add: Z has the wrong number of rows");
  if (z.cols() == 0) return;
  struct Product {
    Eigen::Index ti, tj;
    double cost;
  };
  std::vector<Product> products;
  for (Eigen::Index ti = 0; ti < tiles(); ++ti)
    for (Eigen::Index tj = 0; tj <= ti; ++tj)
      products.push_back({ti, tj, static_cast<double>(extent(ti) * extent(tj)) * (ti == tj ? 0.5 : 1.0)});
  // Largest first, so that the last products the threads pick up are the small ones.
  std::stable_sort(products.begin(), products.end(), [](const Product& a, const Product& b) { return a.cost > b.cost; });
  auto multiply = [&](const Product& p) {
    Map g(store + offset(p.ti, p.tj), extent(p.ti), extent(p.tj));
    const auto zi = z.middleRows(p.ti * tile_, extent(p.ti));
    if (p.ti == p.tj)
      syrk_lower_add(g, zi);
    else
      gemm_nt_add(g, zi, z.middleRows(p.tj * tile_, extent(p.tj)));
  };
  const int blas = blas_threads();
  const int workers = std::min<int>(threads > 0 ? threads : blas, static_cast<int>(products.size()));
  if (workers <= 1) {
    for (const auto& p : products) multiply(p);
    return;
  }
  set_blas_threads(1);  // each tile product on its own thread; restored below
  const auto count = static_cast<std::ptrdiff_t>(products.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(workers)
  for (std::ptrdiff_t k = 0; k < count; ++k) multiply(products[static_cast<std::size_t>(k)]);
  set_blas_threads(blas);
}

// f(dest_row, dest_col, piece, transposed) for each stored piece covering the rectangle:
// G[r, c] for the piece's rows/cols is piece (or piece' when `transposed`) at (dest_row, dest_col)
// relative to (r0, c0). Pieces of diagonal tiles are symmetrised copies of the rectangle's part.
template <class F>
void TiledGram::visit(const double* store, Eigen::Index r0, Eigen::Index rows, Eigen::Index c0, Eigen::Index cols,
                      F&& f) const {
  if (r0 < 0 || c0 < 0 || rows < 0 || cols < 0 || r0 + rows > dim_ || c0 + cols > dim_)
    throw std::out_of_range("TiledGram: block outside the matrix");
  if (rows == 0 || cols == 0) return;
  for (Eigen::Index ti = r0 / tile_; ti * tile_ < r0 + rows; ++ti) {
    const Eigen::Index ra = std::max(r0, ti * tile_), rb = std::min(r0 + rows, ti * tile_ + extent(ti));
    for (Eigen::Index tj = c0 / tile_; tj * tile_ < c0 + cols; ++tj) {
      const Eigen::Index ca = std::max(c0, tj * tile_), cb = std::min(c0 + cols, tj * tile_ + extent(tj));
      if (ti > tj) {
        const ConstMap t(store + offset(ti, tj), extent(ti), extent(tj));
        f(ra - r0, ca - c0, t.block(ra - ti * tile_, ca - tj * tile_, rb - ra, cb - ca), false);
      } else if (ti < tj) {  // upper side: the mirrored tile (tj, ti), transposed
        const ConstMap t(store + offset(tj, ti), extent(tj), extent(ti));
        f(ra - r0, ca - c0, t.block(ca - tj * tile_, ra - ti * tile_, cb - ca, rb - ra), true);
      } else {
        const ConstMap t(store + offset(ti, ti), extent(ti), extent(ti));
        const Eigen::Index base = ti * tile_;
        Matrix piece(rb - ra, cb - ca);
        for (Eigen::Index c = ca; c < cb; ++c)
          for (Eigen::Index r = ra; r < rb; ++r)
            piece(r - ra, c - ca) = r >= c ? t(r - base, c - base) : t(c - base, r - base);
        f(ra - r0, ca - c0, piece, false);
      }
    }
  }
}

Matrix TiledGram::block(const double* store, Eigen::Index r0, Eigen::Index rows, Eigen::Index c0,
                        Eigen::Index cols) const {
  Matrix out(rows, cols);
  visit(store, r0, rows, c0, cols,
        [&](Eigen::Index dr, Eigen::Index dc, const Eigen::Ref<const Matrix>& piece, bool transposed) {
          if (transposed)
            out.block(dr, dc, piece.cols(), piece.rows()) = piece.transpose();
          else
            out.block(dr, dc, piece.rows(), piece.cols()) = piece;
        });
  return out;
}

double TiledGram::squared_norm(const double* store, Eigen::Index r0, Eigen::Index rows, Eigen::Index c0,
                               Eigen::Index cols) const {
  double sum = 0;
  visit(store, r0, rows, c0, cols,
        [&](Eigen::Index, Eigen::Index, const Eigen::Ref<const Matrix>& piece, bool) { sum += piece.squaredNorm(); });
  return sum;
}

}  // namespace cfma::sim
