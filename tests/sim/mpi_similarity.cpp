// MPI test (run at 1, 2 and 4 ranks): the distributed reduction gives the same matrices as a
// dense single-process computation on the same data (so the same for every rank count), for
// the feature-space path and the minibatch path; bad inputs fail on every rank.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

#include "cfma/core/error.hpp"
#include "cfma/par/world.hpp"
#include "cfma/sim/output.hpp"
#include "cfma/sim/permutation_null.hpp"
#include "cfma/sim/plan.hpp"
#include "cfma/sim/similarity.hpp"
#include "cfma/store/h5.hpp"
#include "tests/test_paths.hpp"

namespace cfma::sim {
namespace {

constexpr std::int64_t n_rows = 90;

std::vector<float> values(std::int64_t cols, double phase, bool with_nan = false) {
  std::vector<float> v(static_cast<std::size_t>(n_rows * cols));
  for (std::int64_t r = 0; r < n_rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c)
      v[static_cast<std::size_t>(r * cols + c)] = static_cast<float>(
          std::sin(phase + 0.37 * static_cast<double>(r * (c + 1))) * (1.0 + 0.1 * static_cast<double>(c)) +
          5.0 + 0.3 * std::cos(0.11 * static_cast<double>(r) * phase));
  if (with_nan) v[static_cast<std::size_t>(40 * cols + 1)] = std::nanf("");
  return v;
}

struct Fixture {
  std::vector<store::FeatureSet> sets;
  std::vector<std::int64_t> train, test;
  std::filesystem::path features;
};

store::FeatureSet set_of(const std::filesystem::path& file, const std::string& ds, std::int64_t cols,
                         std::int64_t rows = n_rows) {
  store::FeatureSet s;
  s.name = ds.substr(1);
  s.display_name = s.name;
  s.rows = rows;
  s.blocks.push_back({file, ds, 0, cols});
  return s;
}

Fixture make_files(const std::string& name) {
  auto& comm = par::World::comm();
  const bool root = comm.rank() == 0;
  const auto dir = test::scratch_dir(name);
  Fixture f;
  f.features = dir / "features.h5";
  std::vector<std::int64_t> rows(n_rows);
  std::iota(rows.begin(), rows.end(), 0);
  for (std::int64_t r = 0; r < n_rows; ++r) (r % 3 == 2 ? f.test : f.train).push_back(r);
  std::reverse(f.test.begin(), f.test.end());  // test rows in non-ascending order (reference Q3)
  {
    auto file = store::File::create(f.features, comm);
    const std::vector<std::pair<std::string, std::int64_t>> datasets = {{"/a", 3}, {"/b", 6}, {"/w", 40}, {"/bad", 2}};
    for (std::size_t i = 0; i < datasets.size(); ++i) {
      const auto& [ds, cols] = datasets[i];
      file.create<float>(ds, {static_cast<hsize_t>(n_rows), static_cast<hsize_t>(cols)});
      const auto v = values(cols, 0.5 + static_cast<double>(i), ds == "/bad");
      file.write_all_from_root<float>(ds, std::span<const float>(v), root);
    }
    file.create<std::int64_t>("/split/train", {f.train.size()});
    file.write_all_from_root<std::int64_t>("/split/train", std::span<const std::int64_t>(f.train), root);
    file.create<std::int64_t>("/split/test", {f.test.size()});
    file.write_all_from_root<std::int64_t>("/split/test", std::span<const std::int64_t>(f.test), root);
  }
  const auto act = dir / "run.h5";
  {
    auto file = store::File::create(act, comm);
    file.create<float>("/layers/conv3", {static_cast<hsize_t>(n_rows), 5});
    const auto v = values(5, 3.3);
    file.write_all_from_root<float>("/layers/conv3", std::span<const float>(v), root);
    file.set_attr("run", std::string("net-family-s1"));
  }
  comm.barrier();
  f.sets = store::activation_feature_sets(act);
  f.sets.push_back(set_of(f.features, "/a", 3));
  f.sets.push_back(set_of(f.features, "/b", 6));
  f.sets.push_back(set_of(f.features, "/w", 40));
  store::FeatureSet noise;
  noise.name = "noise";
  noise.rows = n_rows;
  noise.noise_columns = 4;
  noise.noise_seed = 7;
  f.sets.push_back(noise);
  return f;
}

Matrix dense(const store::FeatureSet& set, const std::vector<std::int64_t>& rows, const Vector& mean) {
  store::FeatureReader reader(set);
  Matrix x(static_cast<Eigen::Index>(rows.size()), set.columns());
  std::vector<double> row(static_cast<std::size_t>(set.columns()));
  for (std::size_t r = 0; r < rows.size(); ++r) {
    reader.read(rows[r], 1, row);
    x.row(static_cast<Eigen::Index>(r)) = Eigen::Map<Eigen::RowVectorXd>(row.data(), set.columns());
  }
  return x.rowwise() - mean.transpose();
}

double dense_hsic(const Matrix& x, const Matrix& y) {
  const Matrix k = zero_diagonal_gram(x.transpose()), l = zero_diagonal_gram(y.transpose());
  return unbiased_hsic(hsic_terms(k, k.rowwise().sum(), l, l.rowwise().sum()));
}

TEST(DistributedSimilarity, MatchesDenseComputationOnAnyRankCount) {
  const auto f = make_files("sim_mpi_dense");
  SimilarityConfig config;
  config.measures = {"linear_cka", "debiased_cka", "minibatch_cka", "cca_r2", "cca_r2_mean", "lr_r2",
                     "procrustes", "svcca", "pwcca"};
  config.svcca_keep = 0.9;
  config.max_feature_space_dim = 10;  // /w (40 columns) takes the minibatch path
  config.minibatch_size = 8;
  config.chunk_rows = 7;
  config.permutations = 4;
  config.bootstrap = 3;
  const auto results = compute_similarity(f.sets, {{"train", f.train}, {"test", f.test}}, f.train, config,
                                          par::World::comm());
  ASSERT_EQ(results.size(), 2u);
  const int s = static_cast<int>(f.sets.size());
  for (const auto& r : results) {
    auto rows = r.split == "train" ? f.train : f.test;
    std::sort(rows.begin(), rows.end());
    std::vector<Matrix> x;
    for (const auto& set : f.sets) {
      const Matrix all_train = dense(set, f.train, Vector::Zero(set.columns()));
      x.push_back(dense(set, rows, all_train.colwise().mean().transpose()));
    }
    // Minibatches: consecutive blocks of 8 sorted rows, the last absorbing the remainder.
    const Eigen::Index n = static_cast<Eigen::Index>(rows.size()), count = n / 8;
    auto minibatch_hsic = [&](int a, int b) {
      double h = 0;
      for (Eigen::Index m = 0; m < count; ++m) {
        const Eigen::Index begin = m * 8, size = (m == count - 1 ? n : begin + 8) - begin;
        h += dense_hsic(x[static_cast<std::size_t>(a)].middleRows(begin, size),
                        x[static_cast<std::size_t>(b)].middleRows(begin, size));
      }
      return h;
    };
    for (int a = 0; a < s; ++a)
      for (int b = 0; b < s; ++b) {
        const Matrix &xa = x[static_cast<std::size_t>(a)], &xb = x[static_cast<std::size_t>(b)];
        const double mb = minibatch_hsic(a, b) / std::sqrt(minibatch_hsic(a, a) * minibatch_hsic(b, b));
        EXPECT_NEAR(r.values.at("minibatch_cka")(a, b), mb, 1e-9) << r.split << " " << a << "," << b;
        const bool wide = xa.cols() > 10 || xb.cols() > 10;
        EXPECT_EQ(r.path(a, b), wide ? 1 : 0);
        if (wide) {
          EXPECT_NEAR(r.values.at("linear_cka")(a, b), mb, 1e-9);
          EXPECT_TRUE(std::isnan(r.values.at("cca_r2")(a, b)));
          continue;
        }
        const double cka = linear_cka(xa.transpose() * xb, xa.transpose() * xa, xb.transpose() * xb);
        EXPECT_NEAR(r.values.at("linear_cka")(a, b), cka, 1e-9) << r.split << " " << a << "," << b;
        EXPECT_NEAR(r.values.at("debiased_cka")(a, b),
                    debiased_cka(dense_hsic(xa, xb), dense_hsic(xa, xa), dense_hsic(xb, xb)), 1e-9);
        const Matrix qa = xa.householderQr().householderQ() * Matrix::Identity(xa.rows(), xa.cols());
        const Matrix qb = xb.householderQr().householderQ() * Matrix::Identity(xb.rows(), xb.cols());
        EXPECT_NEAR(r.values.at("cca_r2")(a, b), (qb.transpose() * qa).squaredNorm() / static_cast<double>(xa.cols()), 1e-9);
        EXPECT_NEAR(r.values.at("lr_r2")(a, b), (qb.transpose() * xa).squaredNorm() / xa.squaredNorm(), 1e-9);
        // Procrustes, SVCCA and PWCCA from the rows themselves (SVD and QR of the data).
        const Eigen::JacobiSVD<Matrix> nuclear(xa.transpose() * xb);
        EXPECT_NEAR(r.values.at("procrustes")(a, b), 1.0 - nuclear.singularValues().sum() / (xa.norm() * xb.norm()), 1e-9);
        auto reduced = [](const Matrix& m) {  // X V_k, the top directions holding 90 % of the variance
          const Eigen::JacobiSVD<Matrix> svd(m, Eigen::ComputeThinV);
          const Vector s2 = svd.singularValues().array().square();
          Eigen::Index k = 0;
          for (double sum = 0; k < s2.size() && (k == 0 || sum < 0.9 * s2.sum()); ++k) sum += s2(k);
          return Matrix(m * svd.matrixV().leftCols(k));
        };
        auto canonical = [](const Matrix& p, const Matrix& q) {
          const Matrix qp = p.householderQr().householderQ() * Matrix::Identity(p.rows(), p.cols());
          const Matrix qq = q.householderQr().householderQ() * Matrix::Identity(q.rows(), q.cols());
          return Eigen::JacobiSVD<Matrix>(qp.transpose() * qq, Eigen::ComputeThinU);
        };
        const auto sv = canonical(reduced(xa), reduced(xb));
        EXPECT_NEAR(r.values.at("svcca")(a, b), sv.singularValues().mean(), 1e-9) << r.split << " " << a << "," << b;
        const Matrix& small = xa.cols() <= xb.cols() ? xa : xb;
        const Matrix& large = xa.cols() <= xb.cols() ? xb : xa;
        const auto pw = canonical(small, large);
        const Matrix qs = small.householderQr().householderQ() * Matrix::Identity(small.rows(), small.cols());
        const Vector alpha = ((qs * pw.matrixU()).transpose() * small).cwiseAbs().rowwise().sum();
        EXPECT_NEAR(r.values.at("pwcca")(a, b), alpha.dot(pw.singularValues()) / alpha.sum(), 1e-9);
        const double lo = r.ci_low.at("linear_cka")(a, b), hi = r.ci_high.at("linear_cka")(a, b);
        EXPECT_LE(lo, hi);
        EXPECT_GE(lo, 0.0);
        EXPECT_LE(hi, 1.0 + 1e-12);
      }
    for (int a = 0; a < s; ++a) {
      EXPECT_NEAR(r.values.at("linear_cka")(a, a), 1.0, 1e-12);  // computed, not forced
      const double p = r.p_value.at("minibatch_cka")(a, a);
      EXPECT_GT(p, 0.0);
      EXPECT_LE(p, 1.0);
    }
  }
  // Outputs: rank 0 writes, reads back.
  if (par::World::rank() == 0) {
    const auto path = test::scratch_dir("sim_mpi_out_" + std::to_string(par::World::size())) / "similarity.h5";
    write_similarity_h5(path, f.sets, results);
    const auto file = store::File::open_serial(path);
    EXPECT_EQ(file.read_strings("/set_names").front(), "net-family-s1/conv3");
    const auto m = file.read_all<double>("/test/linear_cka");
    ASSERT_EQ(m.size(), static_cast<std::size_t>(s * s));
    EXPECT_DOUBLE_EQ(m[1], results[1].values.at("linear_cka")(0, 1));
    const auto csv = similarity_csv(f.sets, results);
    EXPECT_EQ(csv.substr(0, csv.find('\n')), "split,measure,set_a,set_b,value,ci_low,ci_high,p_value,null_sd");
  } else {
    test::scratch_dir("sim_mpi_out_" + std::to_string(par::World::size()));
  }
}

// The bootstrap intervals and permutation p-values against an independent numpy computation
// with the same Poisson(1) row weights and the same per-minibatch permutations
// (tests/data/sim_statistics_numpy.json; recipe in tests/data/README.md), on 1, 2 and 4 ranks.
TEST(DistributedSimilarity, BootstrapIntervalsAndPermutationPValuesMatchNumpy) {
  std::ifstream in(test::source_dir() / "tests/data/sim_statistics_numpy.json");
  ASSERT_TRUE(in.good());
  const auto ref = nlohmann::json::parse(in);
  const auto f = make_files("sim_mpi_statistics");
  SimilarityConfig config;
  config.measures = {"linear_cka", "minibatch_cka"};
  config.max_feature_space_dim = 10;
  config.minibatch_size = ref["minibatch_size"].get<int>();
  config.chunk_rows = 7;
  config.seed = ref["seed"].get<std::uint64_t>();
  config.bootstrap = ref["bootstrap"].get<int>();
  config.permutations = ref["permutations"].get<int>();
  const auto results = compute_similarity(f.sets, {{"train", f.train}, {"test", f.test}}, f.train, config,
                                          par::World::comm());
  ASSERT_EQ(results.size(), 2u);
  ASSERT_EQ(f.sets[0].name, ref["sets"][0].get<std::string>());
  int distinct_p = 0;
  for (const auto& r : results) {
    const auto& want = ref[r.split];
    for (const auto& [pair, interval] : want["ci_low_high"].items()) {
      const int a = pair[0] - '0', b = pair[2] - '0';
      EXPECT_NEAR(r.ci_low.at("linear_cka")(a, b), interval[0].get<double>(), 1e-9) << r.split << " " << pair;
      EXPECT_NEAR(r.ci_high.at("linear_cka")(a, b), interval[1].get<double>(), 1e-9) << r.split << " " << pair;
      EXPECT_NEAR(r.ci_low.at("linear_cka")(b, a), interval[0].get<double>(), 1e-9);
    }
    std::set<double> seen;
    for (const auto& [pair, p] : want["p_value"].items()) {
      const int a = pair[0] - '0', b = pair[2] - '0';
      EXPECT_DOUBLE_EQ(r.p_value.at("minibatch_cka")(a, b), p.get<double>()) << r.split << " " << pair;
      seen.insert(p.get<double>());
    }
    distinct_p += static_cast<int>(seen.size());
  }
  EXPECT_GE(distinct_p, 4);  // the reference has small and large p-values: the test can fail
}

// A memory bound small enough that every set is a group of its own: 5 groups, 10 jobs, so
// several passes on every rank count here. Every measure, CI, p-value and null equals the
// one-job run's to 1e-9.
TEST(DistributedSimilarity, MemoryBoundedPlanGivesTheSameResults) {
  const auto f = make_files("sim_mpi_bounded");
  auto& comm = par::World::comm();
  SimilarityConfig config;
  config.measures = known_measures();
  config.svcca_keep = 0.9;
  config.max_feature_space_dim = 10;
  config.minibatch_size = 8;
  config.chunk_rows = 7;
  config.permutations = 4;
  config.bootstrap = 3;
  const std::vector<SplitRows> splits = {{"train", f.train}, {"test", f.test}};
  const auto train_n = static_cast<std::int64_t>(f.train.size());
  const std::vector<std::int64_t> sizes = {train_n, static_cast<std::int64_t>(f.test.size())};
  const auto one_job = plan_similarity(f.sets, config, train_n, sizes, comm.size());
  ASSERT_EQ(one_job.jobs.size(), 1u);
  const auto unbounded = compute_similarity(f.sets, splits, f.train, config, comm);

  // The largest "set twice" job: with that bound no group can hold two sets.
  double largest_single = 0;
  for (int i = 0; i < static_cast<int>(f.sets.size()); ++i)
    largest_single = std::max(largest_single, job_bytes(job_accumulator_plan(one_job.all, {i, i}), config, train_n));
  SimilarityConfig bounded = config;
  bounded.max_accumulator_gib = largest_single / static_cast<double>(1ULL << 30);
  const auto plan = plan_similarity(f.sets, bounded, train_n, sizes, comm.size());
  ASSERT_EQ(plan.groups.size(), f.sets.size());
  ASSERT_EQ(plan.jobs.size(), 10u);
  EXPECT_EQ(plan.teams, std::min(comm.size(), 10));
  EXPECT_GT(plan.passes(), 1 + (comm.size() == 4 ? 1 : 0));  // 10, 5 or 3 passes
  EXPECT_LE(plan.largest_job_bytes, largest_single);
  EXPECT_GT(plan.bytes_read, one_job.bytes_read);  // each group read by 4 jobs
  const auto results = compute_similarity(f.sets, splits, f.train, bounded, comm);

  ASSERT_EQ(results.size(), unbounded.size());
  int compared = 0;
  for (std::size_t k = 0; k < results.size(); ++k) {
    const auto &got = results[k], &want = unbounded[k];
    EXPECT_EQ(got.path, want.path);
    auto same = [&](const std::map<std::string, Matrix>& g, const std::map<std::string, Matrix>& w, const char* what) {
      ASSERT_EQ(g.size(), w.size()) << what;
      for (const auto& [name, m] : w)
        for (Eigen::Index a = 0; a < m.rows(); ++a)
          for (Eigen::Index b = 0; b < m.cols(); ++b) {
            const double x = g.at(name)(a, b), y = m(a, b);
            if (std::isnan(y)) {
              EXPECT_TRUE(std::isnan(x)) << what << " " << name << " " << a << "," << b;
              continue;
            }
            EXPECT_NEAR(x, y, 1e-9) << what << " " << name << " " << got.split << " " << a << "," << b;
            ++compared;
          }
    };
    same(got.values, want.values, "value");
    same(got.ci_low, want.ci_low, "ci_low");
    same(got.ci_high, want.ci_high, "ci_high");
    same(got.p_value, want.p_value, "p_value");
    same(got.null_sd, want.null_sd, "null_sd");
  }
  EXPECT_GT(compared, 2 * 10 * 25);
  // The calibrated value's null sd reaches the CSV, in its own column.
  const auto csv = similarity_csv(f.sets, results);
  const auto row = csv.find("\ntest,linear_cka_calibrated,net-family-s1/conv3,a,");
  ASSERT_NE(row, std::string::npos);
  const auto line = csv.substr(row + 1, csv.find('\n', row + 1) - row - 1);
  const double sd = std::stod(line.substr(line.rfind(',') + 1));
  EXPECT_NEAR(sd, results[1].null_sd.at("linear_cka_calibrated")(0, 1), 1e-15) << line;
}

// linear_cka_calibrated against its null's moments computed from the dense n x n matrices
// (K~ = X~X~', f = X~d: what the streamed sums stand for; permutation_null itself is checked
// against every permutation in test_permutation_null.cpp).
TEST(DistributedSimilarity, CalibratedLinearCkaMatchesDensePermutationNull) {
  const auto f = make_files("sim_mpi_null");
  SimilarityConfig config;
  config.measures = {"linear_cka", "linear_cka_calibrated"};
  config.max_feature_space_dim = 10;
  config.chunk_rows = 7;
  const auto results = compute_similarity(f.sets, {{"train", f.train}, {"test", f.test}}, f.train, config,
                                          par::World::comm());
  const int s = static_cast<int>(f.sets.size());
  auto dense_moments = [](const Matrix& x) {
    const double n = static_cast<double>(x.rows());
    const Vector d = x.colwise().mean().transpose();
    const Matrix centred = x.rowwise() - d.transpose();
    const Matrix k = centred * centred.transpose();
    const Vector fd = centred * d;
    RowMoments m;
    m.n = n;
    m.trace = k.trace();
    m.trace2 = k.squaredNorm();
    m.diagonal2 = k.diagonal().squaredNorm();
    m.offset2 = d.squaredNorm();
    m.offset_form = fd.squaredNorm();
    m.alpha = k.diagonal().dot(fd);
    return m;
  };
  for (const auto& r : results) {
    auto rows = r.split == "train" ? f.train : f.test;
    std::sort(rows.begin(), rows.end());
    std::vector<Matrix> x;
    for (const auto& set : f.sets) {
      const Matrix all_train = dense(set, f.train, Vector::Zero(set.columns()));
      x.push_back(dense(set, rows, all_train.colwise().mean().transpose()));
    }
    for (int a = 0; a < s; ++a)
      for (int b = 0; b < s; ++b) {
        const Matrix &xa = x[static_cast<std::size_t>(a)], &xb = x[static_cast<std::size_t>(b)];
        if (xa.cols() > 10 || xb.cols() > 10) {
          EXPECT_TRUE(std::isnan(r.values.at("linear_cka_calibrated")(a, b)));
          continue;
        }
        const auto null_moments = permutation_null(dense_moments(xa), dense_moments(xb));
        const double scale = (xa.transpose() * xa).norm() * (xb.transpose() * xb).norm();
        const NullMoments null{null_moments.mean / scale, null_moments.sd / scale};
        const double cka = linear_cka(xa.transpose() * xb, xa.transpose() * xa, xb.transpose() * xb);
        EXPECT_NEAR(r.values.at("linear_cka_calibrated")(a, b), cka - null.mean, 1e-9) << r.split << " " << a << "," << b;
        EXPECT_NEAR(r.null_sd.at("linear_cka_calibrated")(a, b), null.sd, 1e-9);
        EXPECT_GT(null.sd, 0.0);
      }
    // At this n (30 or 60 rows) the null's mean is far from 0, and the noise set's calibrated
    // value with any set lies within 3 null sd of 0.
    const int noise = s - 1;
    for (int a = 0; a < noise; ++a) {
      if (f.sets[static_cast<std::size_t>(a)].columns() > 10) continue;
      const double raw = r.values.at("linear_cka")(a, noise), calibrated = r.values.at("linear_cka_calibrated")(a, noise);
      EXPECT_GT(raw - calibrated, 0.02) << r.split << " " << a;
      EXPECT_LT(std::abs(calibrated), 3 * r.null_sd.at("linear_cka_calibrated")(a, noise)) << r.split << " " << a;
    }
    EXPECT_GT(r.values.at("linear_cka_calibrated")(0, 0), 0.5);
  }
}

TEST(DistributedSimilarity, BadInputsFailOnEveryRank) {
  const auto f = make_files("sim_mpi_bad");
  SimilarityConfig config;
  auto& comm = par::World::comm();
  auto with = [&](store::FeatureSet extra) {
    auto sets = f.sets;
    sets.push_back(std::move(extra));
    return sets;
  };
  // Different row counts.
  EXPECT_THROW(compute_similarity(with(set_of(f.features, "/a", 3, n_rows - 1)), {{"train", f.train}}, f.train, config, comm),
               SimilarityError);
  // D = 0.
  EXPECT_THROW(compute_similarity(with(set_of(f.features, "/a", 0)), {{"train", f.train}}, f.train, config, comm),
               SimilarityError);
  // NaN in row 40 (a train row), found by whichever rank reads it.
  try {
    compute_similarity(with(set_of(f.features, "/bad", 2)), {{"train", f.train}}, f.train, config, comm);
    ADD_FAILURE() << "no error for NaN";
  } catch (const SimilarityError& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos) << e.what();
  }
  // Too few rows.
  EXPECT_THROW(compute_similarity(f.sets, {{"test", {1, 2, 5}}}, f.train, config, comm), SimilarityError);
  // A bound the node cannot hold for its ranks: a 1,000,000-column set on the Gram path needs
  // ~4 TB, refused before anything is allocated, naming the key to lower.
  store::FeatureSet huge;
  huge.name = "huge";
  huge.rows = n_rows;
  huge.noise_columns = 1000000;
  SimilarityConfig unbounded = config;
  unbounded.max_feature_space_dim = 2000000;
  unbounded.max_accumulator_gib = 1e7;
  try {
    compute_similarity(with(huge), {{"train", f.train}}, f.train, unbounded, comm);
    ADD_FAILURE() << "no error for a plan larger than the node";
  } catch (const SimilarityError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("GiB available; lower max_accumulator_gib to"), std::string::npos) << message;
    EXPECT_NE(message.find(std::to_string(comm.size()) + " ranks share"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace cfma::sim
