#pragma once
// Small HDF5 fixtures for the probe tests, written collectively over the world communicator
// (rank 0 supplies the data). Header-only: the test CMake globs only test_*/mpi_* files.: a matrix file in features.h5's label/split layout, and a whole
// tiny workdir (features.h5 + activations/) for the stage.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cfma/core/paths.hpp"
#include "cfma/store/feature_sets.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

#include <boost/mpi/communicator.hpp>
#include <nlohmann/json.hpp>

#include "cfma/core/manifest.hpp"
#include "cfma/par/world.hpp"
#include "cfma/store/h5.hpp"
#include "tests/test_paths.hpp"

namespace cfma::test {

// MPI_COMM_SELF as a Boost.MPI communicator: a probe computed by this rank alone.
inline const boost::mpi::communicator& self() {
  static const boost::mpi::communicator comm(MPI_COMM_SELF, boost::mpi::comm_attach);
  return comm;
}

struct ProbeProblem {
  std::int64_t rows = 0, cols = 0;
  std::vector<float> x;  // rows x cols, row-major
  std::vector<std::int32_t> family, pitch, velocity;
  std::vector<std::int64_t> train, test;
};


namespace fixture_detail {

inline double gauss(std::uint64_t seed, std::int64_t row, std::int64_t col) { return store::noise_value(seed, row, col); }

template <class T>
inline void write_vector(store::File& f, const std::string& name, const std::vector<T>& v, bool root) {
  f.create<T>(name, {v.size()});
  f.write_all_from_root<T>(name, v, root);
}

inline void write_labels(store::File& f, const ProbeProblem& p, bool root) {
  write_vector(f, "/labels/family", p.family, root);
  write_vector(f, "/labels/pitch", p.pitch, root);
  write_vector(f, "/labels/velocity", p.velocity, root);
  write_vector(f, "/split/train", p.train, root);
  write_vector(f, "/split/test", p.test, root);
}

}  // namespace fixture_detail
using namespace fixture_detail;

inline ProbeProblem synthetic_problem(std::int64_t rows, std::int64_t cols, int classes, std::uint64_t seed) {
  ProbeProblem p;
  p.rows = rows;
  p.cols = cols;
  p.x.resize(static_cast<std::size_t>(rows * cols));
  for (std::int64_t i = 0; i < rows; ++i) {
    const int y = static_cast<int>(i % classes);
    p.family.push_back(y);
    double pitch = 60, velocity = 75;
    for (std::int64_t j = 0; j < cols; ++j) {
      const double v = 0.7 * gauss(seed + 1, y, j) + gauss(seed, i, j) + (j % 5 == 0 ? 3.0 : 0.0);
      p.x[static_cast<std::size_t>(i * cols + j)] = static_cast<float>(v);
      pitch += 2.0 * gauss(seed + 2, 0, j) * v;
      velocity += 4.0 * gauss(seed + 3, 0, j) * v;
    }
    p.pitch.push_back(static_cast<std::int32_t>(std::lround(pitch + gauss(seed + 4, i, 0))));
    p.velocity.push_back(static_cast<std::int32_t>(std::lround(velocity + 3 * gauss(seed + 5, i, 0))));
  }
  // Test = 30% of the rows in a scrambled order; train = the rest, ascending.
  std::vector<std::int64_t> order(static_cast<std::size_t>(rows));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return gauss(seed + 6, a, 0) < gauss(seed + 6, b, 0); });
  const auto n_test = static_cast<std::size_t>(rows * 3 / 10);
  p.test.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_test));
  p.train.assign(order.begin() + static_cast<std::ptrdiff_t>(n_test), order.end());
  std::sort(p.train.begin(), p.train.end());
  return p;
}

// A problem recorded with its scikit-learn results in tests/data (README.md has the commands).
inline ProbeProblem sklearn_problem(const std::string& json = "probe_sklearn.json") {
  std::ifstream in(source_dir() / "tests/data" / json);
  const auto j = nlohmann::json::parse(in);
  ProbeProblem p;
  const auto x = j["X"].get<std::vector<std::vector<double>>>();
  p.rows = static_cast<std::int64_t>(x.size());
  p.cols = static_cast<std::int64_t>(x.front().size());
  for (const auto& row : x)
    for (const double v : row) p.x.push_back(static_cast<float>(v));  // float32-exact by construction
  p.family = j["family"].get<std::vector<std::int32_t>>();
  for (const double v : j["pitch"].get<std::vector<double>>()) p.pitch.push_back(static_cast<std::int32_t>(v));
  for (const double v : j["velocity"].get<std::vector<double>>()) p.velocity.push_back(static_cast<std::int32_t>(v));
  p.train = j["train"].get<std::vector<std::int64_t>>();
  p.test = j["test"].get<std::vector<std::int64_t>>();
  return p;
}

inline void write_problem(const std::filesystem::path& file, const ProbeProblem& p) {
  const bool root = par::World::rank() == 0;
  auto f = store::File::create(file, MPI_Comm(par::World::comm()));
  f.create<float>("/X", {static_cast<hsize_t>(p.rows), static_cast<hsize_t>(p.cols)});
  f.write_rows<float>("/X", 0, root ? static_cast<hsize_t>(p.rows) : 0, p.x.data());
  write_labels(f, p, root);
}

inline store::FeatureSet problem_set(const std::filesystem::path& file, const ProbeProblem& p) {
  store::FeatureSet s;
  s.name = "x";
  s.display_name = "X";
  s.rows = p.rows;
  s.blocks.push_back({file, "/X", 0, p.cols});
  return s;
}

inline void write_workdir(const WorkPaths& paths, std::int64_t rows, const std::vector<std::string>& runs,
                   const std::vector<std::string>& layers) {
  const bool root = par::World::rank() == 0;
  if (root) std::filesystem::create_directories(paths.activations_dir());
  par::World::comm().barrier();
  const auto base = synthetic_problem(rows, 16, 4, 11);
  {
    auto f = store::File::create(paths.features(), MPI_Comm(par::World::comm()));
    write_labels(f, base, root);
    std::vector<std::string> hand = {"rms", "centroid", "bandwidth", "flatness", "rolloff", "median_power",
                                     "mean_power", "time_to_80db", "time_to_75db", "time_to_70db",
                                     "wavelet_mean_1", "wavelet_mean_5", "wavelet_mean_10", "wavelet_mean_25"};
    auto write_matrix = [&](const std::string& name, const store::Dims& dims, std::uint64_t seed) {
      hsize_t width = 1;
      for (std::size_t i = 1; i < dims.size(); ++i) width *= dims[i];
      std::vector<float> v(static_cast<std::size_t>(rows) * width);
      for (std::int64_t i = 0; i < rows; ++i)
        for (hsize_t j = 0; j < width; ++j)  // informative in proportion to the seed: distinct rankings
          v[static_cast<std::size_t>(i) * width + j] = static_cast<float>(
              gauss(seed, i, static_cast<std::int64_t>(j)) +
              0.05 * static_cast<double>(seed % 23) * base.x[static_cast<std::size_t>(i * 16 + static_cast<std::int64_t>(j % 16))]);
      f.create<float>(name, dims);
      f.write_rows<float>(name, 0, root ? static_cast<hsize_t>(rows) : 0, v.data());
    };
    const auto n = static_cast<hsize_t>(rows);
    for (std::size_t k = 0; k < hand.size(); ++k) write_matrix("/hand/" + hand[k], {n, 16}, 100 + k);
    write_matrix("/hand/wavelet_stats_25", {n, 6, 16}, 200);
    write_matrix("/mel_db", {n, 8, 8}, 300);
    f.set_attr("config_key", std::string("probe-fixture-") + std::to_string(rows));
  }
  const std::string features_key = store::features_key(paths.features());
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const auto& run = runs[r];
    auto f = store::File::create(paths.activations(run), MPI_Comm(par::World::comm()));
    const auto first = run.find('-'), last = run.rfind("-s");
    f.set_attr("run", run);
    f.set_attr("arch", run.substr(0, first));
    f.set_attr("task", run.substr(first + 1, last - first - 1));
    f.set_attr("seed", static_cast<std::int64_t>(std::stoll(run.substr(last + 2))));
    f.set_attr("trained", static_cast<std::int64_t>(run.find("untrained") == std::string::npos));
    f.set_attr("features_key", features_key);
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const auto width = static_cast<hsize_t>(6 + 6 * (l % 4));
      std::vector<float> v(static_cast<std::size_t>(rows) * width);
      for (std::int64_t i = 0; i < rows; ++i)
        for (hsize_t j = 0; j < width; ++j)
          v[static_cast<std::size_t>(i) * width + j] = static_cast<float>(
              gauss(1000 + 10 * r + l, i, static_cast<std::int64_t>(j)) +
              0.3 * static_cast<double>(l + 1) * base.x[static_cast<std::size_t>(i * 16 + static_cast<std::int64_t>(j % 16))]);
      f.create<float>("/layers/" + layers[l], {static_cast<hsize_t>(rows), width});
      f.write_rows<float>("/layers/" + layers[l], 0, root ? static_cast<hsize_t>(rows) : 0, v.data());
    }
    f.close();
    if (root) write_manifest(paths.activations(run), StageKey{"extract", {{"run", run}}});
  }
  if (root) store::write_activations_index(paths, runs);  // as a finished extract stage leaves it
  par::World::comm().barrier();
}

}  // namespace cfma::test
