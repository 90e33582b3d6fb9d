// Feature sets over a synthetic features.h5 written collectively at 1, 2 and 4 ranks: the 23
// hand-crafted sets (names, order, columns), FeatureReader's reads (blocks, covering ranges with
// gaps), the noise baseline, and the errors for non-finite values and missing datasets.
#include <gtest/gtest.h>

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/operations.hpp>
#include <cmath>
#include <limits>
#include <numeric>

#include "cfma/core/error.hpp"
#include "cfma/par/world.hpp"
#include "cfma/store/feature_sets.hpp"
#include "cfma/store/h5.hpp"
#include "tests/test_paths.hpp"

namespace {

namespace fs = std::filesystem;
using cfma::store::File;
using cfma::store::FeatureReader;
using cfma::store::FeatureSet;

constexpr std::int64_t rows = 600;  // > 2 x 256: read_rows' covering windows and gaps
constexpr std::int64_t width = 128;

const std::vector<std::string>& hand_datasets() {
  static const std::vector<std::string> names = {
      "rms", "centroid", "bandwidth", "flatness", "rolloff", "median_power", "mean_power",
      "time_to_80db", "time_to_75db", "time_to_70db", "wavelet_mean_1", "wavelet_mean_5",
      "wavelet_mean_10", "wavelet_mean_25", "wavelet_stats_25"};
  return names;
}

// Value of dataset number `ds`, row, flattened column: exact in float32.
float value(std::size_t ds, std::int64_t row, std::int64_t col) {
  return static_cast<float>(ds * 4096 + static_cast<std::size_t>(col)) + static_cast<float>(row) * 0.0625f;
}

// Written once per process (every test uses it; each rank writes its block of rows).
const fs::path& synthetic_features() {
  static const fs::path path = [] {
    auto& comm = cfma::par::World::comm();
    const auto p = cfma::test::scratch_dir("store-mpi-feature-sets") / "features.h5";
    auto file = File::create(p, MPI_Comm(comm));
    const auto block = cfma::par::block_of(rows, comm.rank(), comm.size());
    file.create<float>("/mel_db", {rows, 4, 8}, {1, 4, 8});
    std::vector<float> mel;
    for (auto r = block.begin; r < block.end; ++r)
      for (std::int64_t c = 0; c < 32; ++c) mel.push_back(value(99, r, c));
    file.write_rows<float>("/mel_db", static_cast<hsize_t>(block.begin), static_cast<hsize_t>(block.size()), mel.data());
    file.create_group("/hand");
    for (std::size_t k = 0; k < hand_datasets().size(); ++k) {
      const bool stats = hand_datasets()[k] == "wavelet_stats_25";
      const std::int64_t cols = stats ? 6 * width : width;
      cfma::store::Dims dims{rows, width};
      if (stats) dims = {rows, 6, width};
      auto chunk = dims;
      chunk[0] = 256;
      file.create<float>("/hand/" + hand_datasets()[k], dims, chunk);
      std::vector<float> v;
      for (auto r = block.begin; r < block.end; ++r)
        for (std::int64_t c = 0; c < cols; ++c) v.push_back(value(k, r, c));
      file.write_rows<float>("/hand/" + hand_datasets()[k], static_cast<hsize_t>(block.begin),
                             static_cast<hsize_t>(block.size()), v.data());
    }
    file.set_attr("config_key", std::string("feedfacecafebeef"));
    file.close();
    comm.barrier();
    return p;
  }();
  return path;
}

std::size_t dataset_index(const std::string& dataset) {
  for (std::size_t k = 0; k < hand_datasets().size(); ++k)
    if ("/hand/" + hand_datasets()[k] == dataset) return k;
  return 99;  // /mel_db
}

// The expected row of a set, straight from the value formula.
std::vector<double> expected_row(const FeatureSet& set, std::int64_t row) {
  std::vector<double> out;
  if (set.is_noise()) {
    for (std::int64_t c = 0; c < set.columns(); ++c) out.push_back(cfma::store::noise_value(set.noise_seed, row, c));
    return out;
  }
  for (const auto& b : set.blocks)
    for (std::int64_t c = 0; c < b.col_count; ++c) out.push_back(value(dataset_index(b.dataset), row, b.col_begin + c));
  return out;
}

void expect_rows(const FeatureSet& set, std::span<const std::int64_t> row_ids, const std::vector<double>& got) {
  const auto cols = set.columns();
  ASSERT_EQ(got.size(), row_ids.size() * static_cast<std::size_t>(cols));
  for (std::size_t i = 0; i < row_ids.size(); ++i) {
    const auto want = expected_row(set, row_ids[i]);
    for (std::int64_t c = 0; c < cols; ++c)
      ASSERT_EQ(got[i * static_cast<std::size_t>(cols) + static_cast<std::size_t>(c)], want[static_cast<std::size_t>(c)])
          << set.name << " row " << row_ids[i] << " col " << c;
  }
}

TEST(FeatureSets, HandSetsNamesOrderAndColumns) {
  const auto sets = cfma::store::hand_feature_sets(synthetic_features(), 7);
  const std::vector<std::pair<std::string, std::int64_t>> want = {
      {"hand/rms", 128}, {"hand/centroid", 128}, {"hand/bandwidth", 128}, {"hand/flatness", 128},
      {"hand/rolloff", 128}, {"hand/median_power", 128}, {"hand/mean_power", 128},
      {"hand/time_to_80db", 128}, {"hand/time_to_75db", 128}, {"hand/time_to_70db", 128},
      {"hand/wavelet_mean_1", 128}, {"hand/wavelet_mean_5", 128}, {"hand/wavelet_mean_10", 128},
      {"hand/wavelet_mean_25", 128}, {"hand/wavelet_median_25", 128}, {"hand/wavelet_sd_25", 128},
      {"hand/wavelet_var_25", 128}, {"hand/wavelet_kurtosis_25", 128}, {"hand/wavelet_q25_25", 128},
      {"hand/wavelet_q75_25", 128}, {"group/wavelets_combined_25", 768}, {"group/top_combined", 1152},
      {"noise", 128}};
  ASSERT_EQ(sets.size(), 23u);
  // The names a config check predicts for widths 1 5 10 25 (stats 25), in any listed order.
  const auto predicted = cfma::store::hand_feature_set_names({25, 1, 10, 5}, 25);
  ASSERT_EQ(predicted.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(predicted[i], want[i].first) << i;
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(sets[i].name, want[i].first) << i;
    EXPECT_EQ(sets[i].columns(), want[i].second) << sets[i].name;
    EXPECT_EQ(sets[i].rows, rows) << sets[i].name;
  }
  EXPECT_EQ(sets[0].display_name, "RMS");
  EXPECT_EQ(sets[9].display_name, "Time to -70 dB");
  EXPECT_EQ(sets[13].display_name, "Mean Wavelet-25");
  EXPECT_EQ(sets[17].display_name, "Kurtosis Wavelet-25");
  EXPECT_EQ(sets[21].display_name, "Top Combined");
  EXPECT_EQ(sets[22].display_name, "Random");
  EXPECT_TRUE(sets[22].is_noise());
  EXPECT_EQ(sets[22].noise_seed, 7u);
  // The wavelet statistics split: consecutive 128-column ranges of one dataset.
  for (std::size_t s = 0; s < 6; ++s) {
    const auto& b = sets[14 + s].blocks.at(0);
    EXPECT_EQ(b.dataset, "/hand/wavelet_stats_25");
    EXPECT_EQ(b.col_begin, static_cast<std::int64_t>(s) * 128);
    EXPECT_EQ(b.col_count, 128);
  }
  // Top Combined = Mean Power, Time to -70 dB, Mean Wavelet-25, the six statistics.
  const auto& top = sets[21].blocks;
  ASSERT_EQ(top.size(), 4u);
  EXPECT_EQ(top[0].dataset, "/hand/mean_power");
  EXPECT_EQ(top[1].dataset, "/hand/time_to_70db");
  EXPECT_EQ(top[2].dataset, "/hand/wavelet_mean_25");
  EXPECT_EQ(top[3].dataset, "/hand/wavelet_stats_25");
  EXPECT_EQ(top[3].col_count, 768);
  EXPECT_EQ(&cfma::store::find_feature_set(sets, "group/top_combined"), &sets[21]);
  try {
    cfma::store::find_feature_set(sets, "hand/rmss");
    FAIL() << "no error for an unknown set";
  } catch (const cfma::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("'hand/rmss'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("hand/rms,"), std::string::npos) << e.what();
  }
  const auto input = cfma::store::input_feature_set(synthetic_features());
  EXPECT_EQ(input.name, "input");
  EXPECT_EQ(input.columns(), 32);
  EXPECT_EQ(cfma::store::features_key(synthetic_features()), "feedfacecafebeef");
}

TEST(FeatureSets, ReadBlocksEveryRankItsOwnRows) {
  auto& comm = cfma::par::World::comm();
  const auto sets = cfma::store::hand_feature_sets(synthetic_features(), 7);
  const auto block = cfma::par::block_of(rows, comm.rank(), comm.size());
  for (const auto* name : {"hand/rms", "hand/wavelet_sd_25", "group/wavelets_combined_25", "group/top_combined"}) {
    FeatureReader reader(cfma::store::find_feature_set(sets, name));
    const auto cols = reader.set().columns();
    std::vector<double> got(static_cast<std::size_t>(block.size() * cols));
    reader.read(block.begin, block.size(), got);
    std::vector<std::int64_t> ids(static_cast<std::size_t>(block.size()));
    std::iota(ids.begin(), ids.end(), block.begin);
    expect_rows(reader.set(), ids, got);
  }
  FeatureReader input(cfma::store::input_feature_set(synthetic_features()));
  std::vector<double> mel(2 * 32);
  input.read(rows - 2, 2, mel);
  EXPECT_EQ(mel[0], value(99, rows - 2, 0));
  EXPECT_EQ(mel[63], value(99, rows - 1, 31));
}

TEST(FeatureSets, ReadRowsCoveringRangesAndGaps) {
  const auto sets = cfma::store::hand_feature_sets(synthetic_features(), 7);
  FeatureReader reader(cfma::store::find_feature_set(sets, "group/top_combined"));
  const auto cols = static_cast<std::size_t>(reader.set().columns());
  const std::vector<std::vector<std::int64_t>> lists = {
      {0, 1, 2, 3},                        // one contiguous range (read in place)
      {0, 2, 255, 256, 300},               // window edge at first + 256, a gap inside
      {5, 262, 263, 520, 599},             // gaps of more than 256 rows between windows
      {599},
      {},
  };
  for (const auto& list : lists) {
    std::vector<double> got(list.size() * cols, -1.0);
    reader.read_rows(list, got);
    expect_rows(reader.set(), list, got);
  }
  // Every third row: many windows, each with gaps.
  std::vector<std::int64_t> thirds;
  for (std::int64_t r = 1; r < rows; r += 3) thirds.push_back(r);
  std::vector<double> got(thirds.size() * cols);
  reader.read_rows(thirds, got);
  expect_rows(reader.set(), thirds, got);

  const std::vector<std::int64_t> descending = {4, 3};
  EXPECT_THROW(reader.read_rows(descending, got), cfma::StoreError);
  EXPECT_THROW(reader.read(rows - 1, 2, got), cfma::StoreError);  // past the end
  std::vector<double> small(cols - 1);
  EXPECT_THROW(reader.read(0, 1, small), cfma::StoreError);        // buffer too small
}

TEST(FeatureSets, NoiseIndependentOfRanksAndChunks) {
  auto& comm = cfma::par::World::comm();
  const auto sets = cfma::store::hand_feature_sets(synthetic_features(), 11);
  FeatureReader whole(cfma::store::find_feature_set(sets, "noise"));
  const auto cols = whole.set().columns();
  std::vector<double> all(static_cast<std::size_t>(rows * cols));
  whole.read(0, rows, all);
  // This rank's block in chunks of 37 rows equals the same rows of the whole read.
  const auto block = cfma::par::block_of(rows, comm.rank(), comm.size());
  FeatureReader chunked(cfma::store::find_feature_set(sets, "noise"));
  for (auto r = block.begin; r < block.end; r += 37) {
    const auto n = std::min<std::int64_t>(37, block.end - r);
    std::vector<double> part(static_cast<std::size_t>(n * cols));
    chunked.read(r, n, part);
    for (std::size_t i = 0; i < part.size(); ++i) ASSERT_EQ(part[i], all[static_cast<std::size_t>(r * cols) + i]);
  }
  // Every rank sees the same values: the sum of all of them agrees across ranks.
  const double sum = std::accumulate(all.begin(), all.end(), 0.0);
  double lo = 0, hi = 0;
  boost::mpi::all_reduce(comm, sum, lo, boost::mpi::minimum<double>());
  boost::mpi::all_reduce(comm, sum, hi, boost::mpi::maximum<double>());
  EXPECT_EQ(lo, hi);
  // N(0, 1): over 76,800 values, mean within 0.02 and variance within 0.03 of 1.
  const double mean = sum / static_cast<double>(all.size());
  double var = 0;
  for (const double v : all) var += (v - mean) * (v - mean);
  var /= static_cast<double>(all.size());
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(var, 1.0, 0.03);
  // Another seed, another matrix; row and column both matter.
  EXPECT_NE(cfma::store::noise_value(11, 3, 4), cfma::store::noise_value(12, 3, 4));
  EXPECT_NE(cfma::store::noise_value(11, 3, 4), cfma::store::noise_value(11, 4, 3));
  EXPECT_EQ(cfma::store::noise_value(11, 3, 4), all[3 * static_cast<std::size_t>(cols) + 4]);
}

TEST(FeatureSets, NonFiniteValueNamesDatasetAndRow) {
  auto& comm = cfma::par::World::comm();
  const auto dir = cfma::test::scratch_dir("store-mpi-nonfinite");
  const auto path = dir / "bad.h5";
  {
    auto file = File::create(path, MPI_Comm(comm));
    file.create<float>("/x", {10, 4});
    std::vector<float> v(40);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
    v[7 * 4 + 2] = std::numeric_limits<float>::quiet_NaN();
    v[9 * 4 + 0] = std::numeric_limits<float>::infinity();
    file.write_all_from_root<float>("/x", v, comm.rank() == 0);
  }
  comm.barrier();
  FeatureSet set;
  set.name = "probe/x";
  set.rows = 10;
  set.blocks.push_back({path, "/x", 0, 4});
  FeatureReader reader(set);
  std::vector<double> out(10 * 4);
  reader.read(0, 7, out);  // rows before the NaN are fine
  EXPECT_EQ(out[27], 27.0);
  const auto message = [&](std::int64_t begin, std::int64_t count) -> std::string {
    try {
      reader.read(begin, count, out);
    } catch (const cfma::StoreError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(message(0, 10), path.string() + ": /x: non-finite value at row 7 (feature set 'probe/x')");
  EXPECT_EQ(message(8, 2), path.string() + ": /x: non-finite value at row 9 (feature set 'probe/x')");
  // A block not covering the NaN's column reads fine.
  set.blocks = {{path, "/x", 0, 2}};
  FeatureReader narrow(set);
  std::vector<double> two(2 * 2);
  narrow.read(7, 2, two);
  EXPECT_EQ(two[0], 28.0);
  EXPECT_EQ(two[3], 33.0);
  comm.barrier();
}

TEST(FeatureSets, MissingDatasetNamesFileAndDataset) {
  auto& comm = cfma::par::World::comm();
  const auto dir = cfma::test::scratch_dir("store-mpi-missing");
  const auto path = dir / "partial.h5";
  {
    auto file = File::create(path, MPI_Comm(comm));
    file.create_group("/hand");
    file.create<float>("/hand/rms", {3, 128});
  }
  comm.barrier();
  const auto message = [&](auto&& f) -> std::string {
    try {
      f();
    } catch (const cfma::StoreError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(message([&] { cfma::store::hand_feature_sets(path, 0); }),
            path.string() + ": missing dataset '/hand/centroid'");
  EXPECT_EQ(message([&] { cfma::store::input_feature_set(path); }), path.string() + ": missing dataset '/mel_db'");
  FeatureSet set;
  set.name = "hand/gone";
  set.rows = 3;
  set.blocks.push_back({path, "/hand/gone", 0, 128});
  FeatureReader reader(set);
  std::vector<double> out(128);
  EXPECT_EQ(message([&] { reader.read(0, 1, out); }), path.string() + ": missing dataset '/hand/gone'");
  EXPECT_EQ(message([&] { cfma::store::activation_feature_sets(path); }),
            path.string() + ": missing attribute 'run' on /");
  comm.barrier();
}

}  // namespace
