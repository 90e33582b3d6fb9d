// The similarity job on a set list shaped like the paper's study (issue 15), with its memory
// bound: wall time, bytes read, peak RSS per rank, the GEMM floor of the plan, a cost model
// from per-tile costs measured in this process (checked against this run), and the model's
// projection of the paper's full study to 64 ranks. See bench/README.md.
//
//   bench_similarity_study DIR RUNS ROW_FRACTION MAX_GIB [MEASURES]   (default: the stage's)
//
// DIR/features.h5 and DIR/act/run<k>.h5 are written on first use: per run the five layers at
// the paper's stored widths (reference-spec 5.1: conv1 and pool1 as channel means 15,376 and
// 3,844; conv2 9,680; pool2 2,420; conv3 480, or 1,080 for every second run, "deformable"), the
// 23 hand-crafted sets (20 x 128, Wavelets Combined 768, Top Combined 1152, noise 128) and the
// input (16,384); rows = ROW_FRACTION x (35,000 train + 15,000 test). Values: 8 shared smooth
// factors per run and layer plus hashed noise, float32.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/operations.hpp>

#include "cfma/core/blas.hpp"
#include "cfma/core/blas_runtime.hpp"
#include "cfma/core/random.hpp"
#include "cfma/par/world.hpp"
#include "cfma/sim/measures.hpp"
#include "cfma/sim/plan.hpp"
#include "cfma/sim/similarity.hpp"
#include "cfma/sim/tiled_gram.hpp"
#include "cfma/store/h5.hpp"

using namespace cfma;
using sim::Matrix;
namespace fs = std::filesystem;

namespace {
double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}
// Bytes this process has read through read(2) and friends (/proc/self/io rchar): HDF5's reads,
// page cache or not.
double bytes_read_now() {
  std::ifstream in("/proc/self/io");
  std::string key;
  double value = 0;
  while (in >> key >> value)
    if (key == "rchar:") return value;
  return 0;
}

const std::vector<std::pair<std::string, std::int64_t>> layers = {
    {"conv1", 15376}, {"pool1", 3844}, {"conv2", 9680}, {"pool2", 2420}, {"conv3", 480}};

std::vector<float> values_of(std::uint64_t seed, std::int64_t rows, std::int64_t cols) {
  std::vector<float> v(static_cast<std::size_t>(rows * cols));
  std::vector<double> weight(static_cast<std::size_t>(8 * cols));
  for (std::size_t i = 0; i < weight.size(); ++i)
    weight[i] = static_cast<double>(splitmix64(seed * 1000003ULL + i) >> 11) / 9007199254740992.0 - 0.5;
  for (std::int64_t r = 0; r < rows; ++r) {
    double factor[8];
    for (int j = 0; j < 8; ++j) factor[j] = std::sin(0.013 * static_cast<double>(r) * (j + 1) + static_cast<double>(seed % 97));
    for (std::int64_t c = 0; c < cols; ++c) {
      double x = 0;
      for (int j = 0; j < 8; ++j) x += factor[j] * weight[static_cast<std::size_t>(8 * c + j)];
      const auto h = splitmix64(seed ^ (static_cast<std::uint64_t>(r) << 24) ^ static_cast<std::uint64_t>(c));
      v[static_cast<std::size_t>(r * cols + c)] = static_cast<float>(x + 0.3 * (static_cast<double>(h >> 11) / 9007199254740992.0));
    }
  }
  return v;
}

std::int64_t conv3_width(int run) { return run % 2 ? 1080 : 480; }

store::FeatureSet set_of(const fs::path& file, const std::string& ds, std::int64_t cols, std::int64_t rows) {
  store::FeatureSet s;
  s.name = s.display_name = ds.substr(1);
  s.rows = rows;
  s.blocks.push_back({file, ds, 0, cols});
  return s;
}

// The set list (and, with write = true, the files) of the benchmark study.
std::vector<store::FeatureSet> study_sets(const fs::path& dir, int runs, std::int64_t rows, bool write) {
  auto& comm = par::World::comm();
  const bool root = comm.rank() == 0;
  std::vector<store::FeatureSet> sets;
  const auto features = dir / "features.h5";
  std::vector<std::pair<std::string, std::int64_t>> hand;
  for (int i = 0; i < 20; ++i) hand.emplace_back("/hand" + std::to_string(i), 128);
  hand.emplace_back("/wavelets_combined", 768);
  hand.emplace_back("/top_combined", 1152);
  hand.emplace_back("/input", 16384);
  if (write) {
    auto file = store::File::create(features, comm);
    for (std::size_t i = 0; i < hand.size(); ++i) {
      file.create<float>(hand[i].first, {static_cast<hsize_t>(rows), static_cast<hsize_t>(hand[i].second)});
      const auto v = root ? values_of(1000 + i, rows, hand[i].second) : std::vector<float>{};
      file.write_all_from_root<float>(hand[i].first, std::span<const float>(v), root);
    }
  }
  for (const auto& [ds, cols] : hand) sets.push_back(set_of(features, ds, cols, rows));
  store::FeatureSet noise;
  noise.name = noise.display_name = "noise";
  noise.rows = rows;
  noise.noise_columns = 128;
  sets.push_back(noise);
  for (int k = 0; k < runs; ++k) {
    const auto path = dir / "act" / ("run" + std::to_string(k) + ".h5");
    if (write) {
      fs::create_directories(path.parent_path());
      auto file = store::File::create(path, comm);
      for (std::size_t l = 0; l < layers.size(); ++l) {
        const auto cols = l == 4 ? conv3_width(k) : layers[l].second;
        const auto ds = "/layers/" + layers[l].first;
        file.create<float>(ds, {static_cast<hsize_t>(rows), static_cast<hsize_t>(cols)});
        const auto v = root ? values_of(static_cast<std::uint64_t>(k * 10 + static_cast<int>(l)), rows, cols) : std::vector<float>{};
        file.write_all_from_root<float>(ds, std::span<const float>(v), root);
      }
      file.set_attr("run", "run" + std::to_string(k));
    }
    for (auto& s : store::activation_feature_sets(path)) sets.push_back(std::move(s));
  }
  return sets;
}

// Widths only (the paper's full study, for the projection): 100 runs, every layer.
std::vector<store::FeatureSet> paper_sets(int runs, std::int64_t rows) {
  std::vector<store::FeatureSet> sets;
  auto add = [&](const std::string& name, std::int64_t cols) {
    store::FeatureSet s;
    s.name = name;
    s.rows = rows;
    s.blocks.push_back({"", "", 0, cols});
    sets.push_back(s);
  };
  for (int i = 0; i < 20; ++i) add("hand" + std::to_string(i), 128);
  add("wavelets_combined", 768);
  add("top_combined", 1152);
  add("input", 16384);
  add("noise", 128);
  for (int k = 0; k < runs; ++k)
    for (std::size_t l = 0; l < layers.size(); ++l) add("run" + std::to_string(k) + "/" + layers[l].first, l == 4 ? conv3_width(k) : layers[l].second);
  return sets;
}

// Costs measured in this process, one thread (each rank's share of the machine).
struct Costs {
  double flop_rate = 0;   // tile products, flop/s
  double pair_s = 0;      // one pair's unbiased HSIC from two b x b Grams (memory-bound)
  double read_rate = 0;   // bytes/s, HDF5 rows of a layer into doubles
  // Whitening (eigendecomposition with vectors) of a set of eigen_widths[k] columns takes
  // eigen_s[k]; other widths interpolate log-log (dsyevd is far from D^3 below ~2,000 columns).
  std::vector<double> eigen_widths, eigen_s;
  double cca_lr_s = 0;    // the CCA and LR products of a 2,048 x 2,048 pair
  Eigen::Index unit = 0;  // rows per minibatch the costs were measured for

  double whitening_s(double width) const {
    std::size_t k = 1;
    while (k + 1 < eigen_widths.size() && width > eigen_widths[k]) ++k;
    const double slope = std::log(eigen_s[k] / eigen_s[k - 1]) / std::log(eigen_widths[k] / eigen_widths[k - 1]);
    return eigen_s[k] * std::pow(width / eigen_widths[k], slope);
  }
};

Costs measure_costs(const std::vector<store::FeatureSet>& sets, Eigen::Index unit) {
  Costs c;
  c.unit = unit;
  {
    const Eigen::Index t = sim::TiledGram::default_tile, rows = 2048;
    Matrix g = Matrix::Zero(t, t), x = Matrix::Random(t, rows), y = Matrix::Random(t, rows);
    gemm_nt_add(g, x, y);  // warm-up
    const double t0 = now();
    for (int k = 0; k < 3; ++k) gemm_nt_add(g, x, y);
    c.flop_rate = 3 * 2.0 * static_cast<double>(t * t * rows) / (now() - t0);
  }
  {
    const Matrix a = sim::zero_diagonal_gram(Matrix::Random(64, unit)), b = sim::zero_diagonal_gram(Matrix::Random(64, unit));
    const sim::Vector ra = a.rowwise().sum(), rb = b.rowwise().sum();
    double sink = 0;
    const double t0 = now();
    for (int k = 0; k < 20; ++k) sink += sim::unbiased_hsic(sim::hsic_terms(a, ra, b, rb));
    c.pair_s = (now() - t0) / 20 + 0 * sink;
  }
  for (const Eigen::Index width : {256, 512, 1024, 2048}) {
    const Matrix x = Matrix::Random(width, width + 1000);
    const Matrix g = x * x.transpose();
    double t0 = now();
    const auto w = sim::whitening(g, 1e-10);
    c.eigen_widths.push_back(static_cast<double>(width));
    c.eigen_s.push_back(now() - t0);
    if (width != 2048) continue;
    const Matrix y = Matrix::Random(2048, 2048);
    t0 = now();
    const auto p = sim::cca_lr_pair(y, w, w, 2048, 2048, 1.0, 1.0);
    c.cca_lr_s = now() - t0 + 0 * p.cca_xy;
  }
  {
    const auto& set = *std::find_if(sets.begin(), sets.end(), [](const auto& s) { return s.name.ends_with("/pool1"); });
    store::FeatureReader reader(set);
    const std::int64_t rows = std::min<std::int64_t>(set.rows, 2048);
    std::vector<std::int64_t> list(static_cast<std::size_t>(rows));
    for (std::int64_t r = 0; r < rows; ++r) list[static_cast<std::size_t>(r)] = r;
    std::vector<double> out(static_cast<std::size_t>(rows * set.columns()));
    const double t0 = now();
    reader.read_rows(list, out);
    c.read_rate = 4.0 * static_cast<double>(out.size()) / (now() - t0);
  }
  return c;
}

// The plan's products and modelled time on P ranks (max over teams of their jobs' time).
struct Model {
  double gemm_flops = 0;  // all ranks together
  double floor_s = 0;     // the busiest team's products at flop_rate, split over its ranks
  double model_s = 0;     // + minibatch pairs + reads + whitening and CCA/LR products
};

Model model_of(const sim::SimilarityPlan& plan, const std::vector<store::FeatureSet>& sets, const sim::SimilarityConfig& config,
               std::int64_t train_rows, const std::vector<std::int64_t>& split_rows, int ranks, const Costs& c) {
  Model m;
  std::vector<double> team_floor(static_cast<std::size_t>(plan.teams), 0), team_time(static_cast<std::size_t>(plan.teams), 0);
  double all_width = 0;
  for (const auto& s : sets) all_width += static_cast<double>(s.columns());
  const bool cross_measures = std::any_of(config.measures.begin(), config.measures.end(), [](const std::string& m) {
    return m == "cca_r2" || m == "cca_r2_mean" || m == "lr_r2" || m == "pwcca";
  });
  const double means_s = 4.0 * all_width * static_cast<double>(train_rows) / c.read_rate / ranks;
  for (int team = 0; team < plan.teams; ++team) {
    const double team_size = static_cast<double>(ranks / plan.teams + (team < ranks % plan.teams ? 1 : 0));
    std::vector<int> before;  // the team's previous job's sets
    for (const std::size_t j : plan.jobs_of(team)) {
      const auto& job = plan.jobs[j];
      double fs_width = 0, width = 0, pairs = 0, mb_flops = 0, measures_s = 0;
      const double unit3 = 2048.0 * 2048.0 * 2048.0;
      auto dim = [&](int i) { return static_cast<double>(sets[static_cast<std::size_t>(i)].columns()); };
      auto fs = [&](int i) { return plan.all.feature_space[static_cast<std::size_t>(i)]; };
      for (const int i : job.sets) {
        width += dim(i);
        if (fs(i)) fs_width += dim(i);
        // Whitened once per team while consecutive jobs hold the set (the job keeps it).
        if (fs(i) && cross_measures && !std::count(before.begin(), before.end(), i))
          measures_s += c.whitening_s(dim(i));
      }
      for (std::size_t a = 0; a < job.sets.size(); ++a)
        for (std::size_t b = a; b < job.sets.size(); ++b) {
          const int ga = job.sets[a], gb = job.sets[b];
          const bool owned = plan.owns(job, ga, gb);
          pairs += (a == b || owned) ? 1 : 0;
          if (owned && cross_measures && fs(ga) && fs(gb))  // 2 Da Db (Db + 2 Da) multiply-adds
            measures_s += c.cca_lr_s * dim(ga) * dim(gb) * (dim(gb) + 2 * dim(ga)) / (6 * unit3);
        }
      measures_s *= 2;  // both splits
      before = job.sets;
      const double tile_area = sim::TiledGram(static_cast<Eigen::Index>(fs_width)).multiply_adds_per_row();
      double flops = 0, time = 0;
      for (const auto n : split_rows) {
        const double rows = static_cast<double>(n);
        flops += 2.0 * tile_area * rows;
        if (plan.all.minibatch) {
          const double count = std::max<double>(1.0, std::floor(rows / static_cast<double>(config.minibatch_size)));
          const double unit = rows / count;
          mb_flops += 2.0 * width * unit * unit * count;  // every set's minibatch Gram
          time += pairs * count * c.pair_s * (unit * unit) / static_cast<double>(c.unit * c.unit);
        }
        time += 4.0 * width * rows / c.read_rate;
      }
      m.gemm_flops += flops + mb_flops;
      team_floor[static_cast<std::size_t>(team)] += (flops + mb_flops) / c.flop_rate / team_size;
      team_time[static_cast<std::size_t>(team)] += ((flops + mb_flops) / c.flop_rate + time + measures_s) / team_size;
    }
  }
  m.floor_s = *std::max_element(team_floor.begin(), team_floor.end());
  m.model_s = *std::max_element(team_time.begin(), team_time.end()) + means_s;
  return m;
}

}  // namespace

int run(int argc, char** argv);

int main(int argc, char** argv) {
  reexec_with_capable_blas_kernels(argv);  // as the cfma binary does
  par::World world(argc, argv);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_similarity_study: %s\n", e.what());
    return 1;
  }
}

int run(int argc, char** argv) {
  auto& comm = par::World::comm();
  if (argc < 5) {
    if (comm.rank() == 0) std::fprintf(stderr, "usage: bench_similarity_study DIR RUNS ROW_FRACTION MAX_GIB\n");
    return 2;
  }
  set_blas_threads(1);
  const fs::path dir = argv[1];
  const int runs = std::stoi(argv[2]);
  const double fraction = std::stod(argv[3]);
  const auto train_n = static_cast<std::int64_t>(std::llround(35000 * fraction));
  const auto test_n = static_cast<std::int64_t>(std::llround(15000 * fraction));
  const std::int64_t rows = train_n + test_n;
  const auto stamp = dir / ("written_" + std::to_string(runs) + "_" + std::to_string(rows));
  const bool write = !fs::exists(stamp);
  if (write && comm.rank() == 0) fs::create_directories(dir);
  comm.barrier();
  const auto sets = study_sets(dir, runs, rows, write);
  if (write && comm.rank() == 0) std::ofstream(stamp) << "done\n";

  sim::SimilarityConfig config;  // the stage's defaults
  config.max_accumulator_gib = std::stod(argv[4]);
  if (argc > 5) {  // MEASURES: comma-separated
    config.measures.clear();
    for (std::string list = argv[5], m; !list.empty();) {
      const auto comma = list.find(',');
      config.measures.push_back(list.substr(0, comma));
      list = comma == std::string::npos ? "" : list.substr(comma + 1);
    }
  }
  std::vector<std::int64_t> train(static_cast<std::size_t>(train_n)), test(static_cast<std::size_t>(test_n));
  for (std::int64_t r = 0; r < rows; ++r) (r < train_n ? train[static_cast<std::size_t>(r)] : test[static_cast<std::size_t>(r - train_n)]) = r;
  const std::vector<std::int64_t> split_rows = {train_n, test_n};
  const auto plan = sim::plan_similarity(sets, config, train_n, split_rows, comm.size());
  const double b = static_cast<double>(config.minibatch_size);
  const auto unit = static_cast<Eigen::Index>(std::min<double>(static_cast<double>(train_n), b));
  const Costs costs = measure_costs(sets, unit);
  comm.barrier();

  const double rss_before = peak_rss_mib();  // the data generation and the cost measurements
  const double read0 = bytes_read_now(), t0 = now();
  const auto results = sim::compute_similarity(sets, {{"train", train}, {"test", test}}, train, config, comm);
  const double wall = now() - t0, read = bytes_read_now() - read0;
  std::vector<double> reads, rss;
  boost::mpi::gather(comm, read, reads, 0);
  boost::mpi::gather(comm, peak_rss_mib(), rss, 0);
  double wall_max = 0;
  boost::mpi::reduce(comm, wall, wall_max, boost::mpi::maximum<double>(), 0);
  if (comm.rank() != 0) return 0;

  std::int64_t columns = 0, fs_columns = 0;
  for (std::size_t i = 0; i < sets.size(); ++i) {
    columns += sets[i].columns();
    if (plan.all.feature_space[i]) fs_columns += sets[i].columns();
  }
  const auto here = model_of(plan, sets, config, train_n, split_rows, comm.size(), costs);
  std::printf("set list: %d runs x 5 layers + 23 hand-crafted + input = %zu sets, %lld columns (%lld feature-space), "
              "%lld train + %lld test rows (%.3g of the paper's)\n",
              runs, sets.size(), static_cast<long long>(columns), static_cast<long long>(fs_columns),
              static_cast<long long>(train_n), static_cast<long long>(test_n), fraction);
  std::printf("plan at %d rank%s, max_accumulator_gib = %g: %s\n", comm.size(), comm.size() == 1 ? "" : "s",
              config.max_accumulator_gib, plan.describe().c_str());
  std::printf("measured per rank (1 thread): tile products %.1f GFLOP/s, one minibatch pair (b = %lld) %.2f ms, "
              "reads %.0f MB/s, whitening of 256 / 512 / 1,024 / 2,048 columns %.3f / %.3f / %.3f / %.3f s, "
              "CCA + LR of a 2,048 x 2,048 pair %.3f s\n",
              costs.flop_rate / 1e9, static_cast<long long>(costs.unit), 1e3 * costs.pair_s, costs.read_rate / 1e6,
              costs.eigen_s[0], costs.eigen_s[1], costs.eigen_s[2], costs.eigen_s[3], costs.cca_lr_s);
  std::string read_list, rss_list;
  for (std::size_t r = 0; r < reads.size(); ++r) {
    if (r > 0) read_list += ", ", rss_list += ", ";
    read_list += std::to_string(static_cast<long long>(reads[r] / 1e6));
    rss_list += std::to_string(static_cast<long long>(rss[r]));
  }
  std::printf("similarity on %d rank%s: wall %.2f s; GEMM floor %.2f s (%.3g GFLOP in all); model %.2f s "
              "(measured / model %.2f); read MB per rank [%s] (plan %.0f MB in all); peak RSS MiB per rank [%s] (rank 0 "
              "before the run: %.0f)\n",
              comm.size(), comm.size() == 1 ? "" : "s", wall_max, here.floor_s, here.gemm_flops / 1e9, here.model_s,
              wall_max / here.model_s, read_list.c_str(), plan.bytes_read / 1e6, rss_list.c_str(), rss_before);
  std::printf("check: train linear_cka[%s, %s] = %.10f\n", sets[0].name.c_str(), sets.back().name.c_str(),
              results[0].values.at("linear_cka")(0, static_cast<Eigen::Index>(sets.size()) - 1));

  // The paper's full study: 100 runs (every layer), 35,000 + 15,000 rows, the default bound.
  sim::SimilarityConfig paper_config;
  const auto paper = paper_sets(100, 50000);
  for (const int ranks : {64, 256}) {
    const auto paper_plan = sim::plan_similarity(paper, paper_config, 35000, {35000, 15000}, ranks);
    const auto projected = model_of(paper_plan, paper, paper_config, 35000, {35000, 15000}, ranks, costs);
    std::printf("projection, paper study (%zu sets) on %d ranks x 1 thread, max_accumulator_gib = %g: %s; "
                "GEMM %.3g TFLOP, floor %.0f s, model %.0f s (%.1f h)\n",
                paper.size(), ranks, paper_config.max_accumulator_gib, paper_plan.describe().c_str(),
                projected.gemm_flops / 1e12, projected.floor_s, projected.model_s, projected.model_s / 3600);
  }
  return 0;
}
