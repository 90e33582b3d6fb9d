// The tiled lower-triangle store of Z Z' (cfma/sim/tiled_gram.hpp) against dense products.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "cfma/sim/tiled_gram.hpp"

namespace cfma::sim {
namespace {

using Matrix = Eigen::MatrixXd;

TEST(TiledGram, StoresOnlyTheLowerTiles) {
  // D = 11, tile 4: tile sides 4, 4, 3 -> (0,0) 16, (1,0) 16, (1,1) 16, (2,0) 12, (2,1) 12, (2,2) 9.
  EXPECT_EQ(TiledGram(11, 4).size(), 81u);
  EXPECT_EQ(TiledGram(8, 4).size(), 48u);
  EXPECT_EQ(TiledGram(3, 4).size(), 9u);
  EXPECT_EQ(TiledGram(0, 4).size(), 0u);
  EXPECT_THROW(TiledGram(5, 0), std::invalid_argument);
}

TEST(TiledGram, BlocksAndNormsEqualTheDenseProductOnBothSidesOfTheDiagonal) {
  std::srand(7);
  const Matrix z = Matrix::Random(11, 13);
  const TiledGram gram(11, 4);
  std::vector<double> store(gram.size(), 0.0);
  gram.add(store.data(), z.leftCols(6));  // two chunks, the second a view with an outer stride
  gram.add(store.data(), z.rightCols(7));
  const Matrix dense = z * z.transpose();
  EXPECT_LT((gram.block(store.data(), 0, 11, 0, 11) - dense).cwiseAbs().maxCoeff(), 1e-12);
  // Rectangles inside one tile, straddling tiles, above and below the diagonal, through diagonal tiles.
  const std::vector<std::array<Eigen::Index, 4>> rects{
      {0, 4, 0, 4}, {5, 6, 1, 2}, {1, 2, 5, 6}, {2, 7, 3, 8}, {9, 2, 0, 11}, {0, 11, 10, 1}, {3, 1, 3, 1}, {6, 5, 6, 5}};
  for (const auto& [r0, rows, c0, cols] : rects) {
    const Matrix expected = dense.block(r0, c0, rows, cols);
    EXPECT_LT((gram.block(store.data(), r0, rows, c0, cols) - expected).cwiseAbs().maxCoeff(), 1e-12)
        << r0 << " " << rows << " " << c0 << " " << cols;
    EXPECT_NEAR(gram.squared_norm(store.data(), r0, rows, c0, cols), expected.squaredNorm(), 1e-10);
  }
}

TEST(TiledGram, RejectsWrongShapes) {
  const TiledGram gram(6, 4);
  std::vector<double> store(gram.size(), 0.0);
  EXPECT_THROW(gram.add(store.data(), Matrix::Zero(5, 3)), std::invalid_argument);
  EXPECT_THROW(gram.block(store.data(), 4, 3, 0, 1), std::out_of_range);
  EXPECT_THROW(gram.squared_norm(store.data(), 0, 1, -1, 2), std::out_of_range);
  EXPECT_EQ(gram.block(store.data(), 2, 0, 0, 6).size(), 0);
}

}  // namespace
}  // namespace cfma::sim
