// All-pairs linear CKA: cfma's one-pass accumulation (the lower tiles of the stacked sets' Gram
// per chunk: every Gram and cross product once) vs numpy's pair-by-pair feature-space formula
// (bench_similarity.py on the same file),
// the GEMM floor, and a streaming run from HDF5 with the peak memory. See bench/README.md.
//   bench_similarity table DATA.bin [n] [dims...]     writes DATA.bin (float32) if absent
//   bench_similarity stream FILE.h5 [rows] [dims...]
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/operations.hpp>

#include "cfma/core/blas_runtime.hpp"
#include "cfma/par/world.hpp"
#include "cfma/sim/accumulator.hpp"
#include "cfma/core/blas.hpp"
#include "cfma/sim/similarity.hpp"
#include "cfma/store/h5.hpp"

using namespace cfma;
using sim::Matrix;

namespace {
double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}
// Deterministic correlated features: set k, row r, column c.
float value(int k, std::int64_t r, std::int64_t c) {
  return static_cast<float>(std::sin(0.001 * static_cast<double>(r) * (1.0 + 0.01 * static_cast<double>(c)) + k) +
                            0.5 * std::cos(0.37 * static_cast<double>(r % 97) * static_cast<double>(c % 13 + 1)) + k);
}

int table(const std::string& path, std::int64_t n, const std::vector<std::int64_t>& dims) {
  std::int64_t total = 0;
  for (auto d : dims) total += d;
  if (!std::filesystem::exists(path)) {  // row-major float32 [n, sum dims], sets side by side
    std::ofstream out(path, std::ios::binary);
    std::vector<float> row(static_cast<std::size_t>(total));
    for (std::int64_t r = 0; r < n; ++r) {
      std::size_t at = 0;
      for (std::size_t k = 0; k < dims.size(); ++k)
        for (std::int64_t c = 0; c < dims[k]; ++c) row[at++] = value(static_cast<int>(k), r, c);
      out.write(reinterpret_cast<const char*>(row.data()), static_cast<std::streamsize>(row.size() * 4));
    }
  }
  // Load as Z = [X_1 ... X_S]' (sum dims x n, column = example: the file's rows), float64,
  // each feature centred.
  Matrix z(total, n);
  {
    std::ifstream in(path, std::ios::binary);
    std::vector<float> row(static_cast<std::size_t>(total));
    for (std::int64_t r = 0; r < n; ++r) {
      in.read(reinterpret_cast<char*>(row.data()), static_cast<std::streamsize>(row.size() * 4));
      for (std::int64_t c = 0; c < total; ++c) z(c, r) = row[static_cast<std::size_t>(c)];
    }
  }
  z.colwise() -= z.rowwise().mean();
  const int s = static_cast<int>(dims.size());
  std::vector<Eigen::Index> offset{0};
  for (auto d : dims) offset.push_back(offset.back() + d);
  auto set_rows = [&](int k) { return z.middleRows(offset[static_cast<std::size_t>(k)], dims[static_cast<std::size_t>(k)]); };

  {  // warm-up: the BLAS thread pool starts and the cores reach their clock before either timing
    Matrix w = Matrix::Zero(1024, 1024);
    for (int k = 0; k < 4; ++k) gemm_nt_add(w, z.topLeftCorner(1024, 4096), z.topLeftCorner(1024, 4096));
  }
  // cfma: accumulate in chunks (as the job does), then the CKA table.
  double t0 = now();
  sim::AccumulatorPlan plan;
  plan.dims.assign(dims.begin(), dims.end());
  plan.feature_space.assign(dims.size(), true);
  sim::Accumulator acc(plan);
  const std::int64_t chunk = 4096;
  for (std::int64_t begin = 0; begin < n; begin += chunk) acc.add_rows(z.middleCols(begin, std::min(chunk, n - begin)));
  Matrix cka(s, s);
  std::vector<double> norms;
  for (int a = 0; a < s; ++a) norms.push_back(acc.gram_norm(a));
  for (int a = 0; a < s; ++a)
    for (int b = a; b < s; ++b) cka(a, b) = cka(b, a) = sim::linear_cka(acc.cross_squared_norm(a, b), norms[a], norms[b]);
  const double t_cfma = now() - t0;

  // Floor: the bare BLAS products the table needs, over all n rows at once, two ways; the
  // faster one counts. (1) one SYRK of Z (what cfma runs, unchunked); (2) numpy's products
  // without the repeats: each Gram once (SYRK), each cross once (GEMM).
  double checksum = 0;
  t0 = now();
  {
    Matrix zz = Matrix::Zero(total, total);
    syrk_lower_add(zz, z);
    checksum += zz(total - 1, 0);
  }
  const double t_floor_syrk = now() - t0;
  t0 = now();
  for (int a = 0; a < s; ++a) {
    Matrix g = Matrix::Zero(dims[static_cast<std::size_t>(a)], dims[static_cast<std::size_t>(a)]);
    syrk_lower_add(g, set_rows(a));
    checksum += g(0, 0);
    for (int b = a + 1; b < s; ++b) {
      Matrix c = Matrix::Zero(dims[static_cast<std::size_t>(a)], dims[static_cast<std::size_t>(b)]);
      gemm_nt_add(c, set_rows(a), set_rows(b));
      checksum += c(0, 0);
    }
  }
  const double t_floor_pairs = now() - t0;
  const double t_floor = std::min(t_floor_syrk, t_floor_pairs);
  std::printf("cfma all-pairs linear CKA: %d sets (", s);
  for (auto d : dims) std::printf(" %ld", static_cast<long>(d));
  std::printf(" ), n = %ld; %s\n", static_cast<long>(n), blas_description().c_str());
  std::printf("  cfma table: %.3f s   GEMM floor: %.3f s   ratio cfma/floor %.2f  (one SYRK of Z %.3f s; SYRK per set + GEMM per pair %.3f s; checksum %.3g)\n",
              t_cfma, t_floor, t_cfma / t_floor, t_floor_syrk, t_floor_pairs, checksum);
  std::printf("  cka[0,1..]:");
  for (int b = 0; b < s; ++b) std::printf(" %.10f", cka(0, b));
  std::printf("\n  peak RSS %.0f MiB\n", peak_rss_mib());
  return 0;
}

int stream(const std::string& path, std::int64_t n, const std::vector<std::int64_t>& dims) {
  auto& comm = par::World::comm();
  std::vector<store::FeatureSet> sets;
  {
    auto file = store::File::create(path, comm);
    const auto block = par::block_of(n, comm.rank(), comm.size());
    for (std::size_t k = 0; k < dims.size(); ++k) {
      const std::string ds = "/set" + std::to_string(k);
      file.create<float>(ds, {static_cast<hsize_t>(n), static_cast<hsize_t>(dims[k])},
                         {1024, static_cast<hsize_t>(dims[k])});
      const std::int64_t step = 8192;
      std::vector<float> buf;
      for (std::int64_t b0 = 0; b0 < (n + comm.size() - 1) / comm.size(); b0 += step) {  // same call count on all ranks
        const std::int64_t begin = std::min(block.begin + b0, block.end), end = std::min(begin + step, block.end);
        buf.resize(static_cast<std::size_t>((end - begin) * dims[k]));
        for (std::int64_t r = begin; r < end; ++r)
          for (std::int64_t c = 0; c < dims[k]; ++c)
            buf[static_cast<std::size_t>((r - begin) * dims[k] + c)] = value(static_cast<int>(k), r, c);
        file.write_rows<float>(ds, static_cast<hsize_t>(begin), static_cast<hsize_t>(end - begin), buf.data());
      }
      store::FeatureSet s;
      s.name = ds.substr(1);
      s.rows = n;
      s.blocks.push_back({path, ds, 0, dims[k]});
      sets.push_back(s);
    }
  }
  comm.barrier();
  std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
  for (std::int64_t r = 0; r < n; ++r) rows[static_cast<std::size_t>(r)] = r;
  sim::SimilarityConfig config;
  config.measures = {"linear_cka", "debiased_cka", "cca_r2", "lr_r2"};
  config.chunk_rows = 2048;
  const double t0 = now();
  const auto results = sim::compute_similarity(sets, {{"train", rows}}, rows, config, comm);
  const double t = now() - t0;
  const double rss = peak_rss_mib();
  double max_rss = 0;
  boost::mpi::reduce(comm, rss, max_rss, boost::mpi::maximum<double>(), 0);
  if (comm.rank() == 0) {
    std::printf("streaming similarity over %ld rows x %zu sets from HDF5, %d rank(s): %.2f s (2 passes), peak RSS per rank %.0f MiB\n",
                static_cast<long>(n), dims.size(), comm.size(), t, max_rss);
    std::printf("  linear_cka[0,1] = %.10f  debiased_cka[0,1] = %.10f\n", results[0].values.at("linear_cka")(0, 1),
                results[0].values.at("debiased_cka")(0, 1));
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  reexec_with_capable_blas_kernels(argv);  // as the cfma binary does
  par::World world(argc, argv);
  const char* threads = std::getenv("CFMA_THREADS");  // BLAS/Eigen threads per rank (default 2)
  const int nthreads = threads ? std::atoi(threads) : 2;
  set_blas_threads(nthreads);
  Eigen::setNbThreads(nthreads);
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s table DATA.bin [n] [dims...] | stream FILE.h5 [rows] [dims...]\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1], path = argv[2];
  const bool is_table = mode == "table";
  const std::int64_t n = argc > 3 ? std::stoll(argv[3]) : (is_table ? 35000 : 289205);
  std::vector<std::int64_t> dims;
  for (int i = 4; i < argc; ++i) dims.push_back(std::stoll(argv[i]));
  if (dims.empty()) dims = {128, 480, 768, 1152, 2420};
  return is_table ? table(path, n, dims) : stream(path, n, dims);
}
