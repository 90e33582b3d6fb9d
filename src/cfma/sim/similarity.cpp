#include "cfma/sim/similarity.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstring>
#include <optional>

#include <spdlog/spdlog.h>

#include "cfma/core/error.hpp"
#include "cfma/core/random.hpp"
#include "cfma/par/reduce.hpp"
#include "cfma/par/test_fault.hpp"
#include "cfma/par/world.hpp"
#include "cfma/sim/accumulator.hpp"

namespace cfma::sim {

namespace {

using Rows = std::vector<std::int64_t>;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();
std::size_t to_size(std::int64_t v) { return static_cast<std::size_t>(v); }

bool wants(const SimilarityConfig& c, const std::string& measure) {
  return std::find(c.measures.begin(), c.measures.end(), measure) != c.measures.end();
}

// A piece of this rank's work: positions [begin, end) of the sorted split row list; for the
// minibatch path also the minibatch's global index.
struct Unit {
  std::int64_t begin = 0, end = 0;
  std::int64_t minibatch = -1;
};

std::vector<Unit> work_units(std::int64_t n, bool minibatch_mode, std::int64_t b, std::int64_t chunk,
                             const boost::mpi::communicator& comm) {
  std::vector<Unit> units;
  if (minibatch_mode) {
    const std::int64_t count = std::max<std::int64_t>(1, n / b);  // last one takes the remainder
    const auto mine = par::block_of(count, comm.rank(), comm.size());
    for (std::int64_t k = mine.begin; k < mine.end; ++k)
      units.push_back({k * b, k == count - 1 ? n : (k + 1) * b, k});
  } else {
    const auto mine = par::block_of(n, comm.rank(), comm.size());
    for (std::int64_t pos = mine.begin; pos < mine.end; pos += chunk)
      units.push_back({pos, std::min(pos + chunk, mine.end), -1});
  }
  return units;
}

// Reads `rows` of a set into `buffer` and centres them: returns the D x rows view.
ConstMap read_centred(store::FeatureReader& reader, std::span<const std::int64_t> rows,
                      const Vector& mean, std::vector<double>& buffer) {
  const auto d = reader.set().columns();
  buffer.resize(rows.size() * to_size(d));
  reader.read_rows(rows, buffer);
  Eigen::Map<Matrix> x(buffer.data(), d, static_cast<Eigen::Index>(rows.size()));
  x.colwise() -= mean;
  return ConstMap(buffer.data(), d, x.cols());
}

// Runs `work` on this rank; then every rank learns whether any rank failed (so all leave the
// collective section together) and throws SimilarityError with the first failure.
template <class F>
void collective_step(const boost::mpi::communicator& comm, F&& work) {
  std::string error;
  try {
    work();
  } catch (const std::exception& e) {
    error = std::string("similarity: ") + e.what();
  }
  // The agreed message reads "[rank r] similarity: ...", as every stage's does.
  if (auto message = par::agreed_error(comm, error); !message.empty()) throw SimilarityError(message);
}

std::vector<Vector> train_means(std::vector<store::FeatureReader>& readers, const Rows& train,
                                std::int64_t chunk, const boost::mpi::communicator& comm) {
  std::vector<std::size_t> offset{0};
  for (auto& r : readers) offset.push_back(offset.back() + to_size(r.set().columns()));
  std::vector<double> sums(offset.back(), 0.0);
  collective_step(comm, [&] {
    std::vector<double> buffer;
    for (const auto& unit : work_units(static_cast<std::int64_t>(train.size()), false, 0, chunk, comm)) {
      const std::span<const std::int64_t> rows(train.data() + unit.begin, to_size(unit.end - unit.begin));
      for (std::size_t i = 0; i < readers.size(); ++i) {
        const auto x = read_centred(readers[i], rows, Vector::Zero(readers[i].set().columns()), buffer);
        Eigen::Map<Vector>(sums.data() + offset[i], x.rows()) += x.rowwise().sum();
      }
    }
  });
  par::all_reduce_sum(comm, std::span<double>(sums));
  std::vector<Vector> means;
  for (std::size_t i = 0; i < readers.size(); ++i)
    means.push_back(Eigen::Map<Vector>(sums.data() + offset[i], readers[i].set().columns()) /
                    static_cast<double>(train.size()));
  return means;
}

// Percentile with linear interpolation (numpy's default) of unsorted values.
double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

Matrix nan_matrix(int s) { return Matrix::Constant(s, s, nan); }

// Bootstrap replicate r's linear CKA of every feature-space pair (NaN elsewhere). Train
// replicates are re-centred by their own weighted mean; test replicates keep the train mean.
Matrix bootstrap_cka(const Accumulator& acc, bool recentre) {
  const int s = acc.sets();
  const double n = acc.rows();
  auto centred_cross = [&](int a, int b) {
    Matrix c = acc.cross(a, b);
    if (recentre) c -= acc.column_sums(a) * acc.column_sums(b).transpose() / n;
    return c;
  };
  Matrix out = nan_matrix(s);
  std::vector<double> gram_norm(to_size(s), nan);
  for (int a = 0; a < s; ++a)
    if (acc.plan().feature_space[to_size(a)]) gram_norm[to_size(a)] = centred_cross(a, a).norm();
  for (int a = 0; a < s; ++a)
    for (int b = a; b < s; ++b) {
      if (!acc.plan().feature_space[to_size(a)] || !acc.plan().feature_space[to_size(b)]) continue;
      out(a, b) = out(b, a) =
          linear_cka(centred_cross(a, b).squaredNorm(), gram_norm[to_size(a)], gram_norm[to_size(b)]);
    }
  return out;
}

// The measures of one split from its reduced sums (the same on every rank). The pairs'
// cross-block measures (CCA, LR, Procrustes, SVCCA, PWCCA: a few products and a symmetric
// eigensolver each) are dealt out to the ranks, pair k to rank k mod P, and summed: every cell
// is computed by one rank, the others add 0, so the result does not depend on P.
SplitResult measures_of(const Accumulator& acc, const std::vector<Accumulator>& boot,
                        const SplitRows& split, const std::vector<store::FeatureSet>& sets,
                        const SimilarityConfig& config, const boost::mpi::communicator& comm) {
  const int s = acc.sets();
  const auto& fs = acc.plan().feature_space;
  SplitResult r;
  r.split = split.name;
  r.rows = static_cast<std::int64_t>(split.rows.size());
  r.path.resize(s, s);
  // Cross-block measures start at 0 and are summed over ranks below; the others are computed
  // on every rank.
  const std::vector<std::string> dealt = {"cca_r2", "cca_r2_mean", "lr_r2", "procrustes", "svcca", "pwcca"};
  auto is_dealt = [&](const std::string& m) { return std::find(dealt.begin(), dealt.end(), m) != dealt.end(); };
  for (const auto& m : config.measures) r.values[m] = is_dealt(m) ? Matrix::Zero(s, s) : nan_matrix(s);

  // Per-set quantities, computed once.
  std::vector<double> gram_norm(to_size(s), nan), trace(to_size(s), nan), hsic_self(to_size(s), nan);
  std::vector<std::optional<Whitening>> white(to_size(s));
  std::vector<std::optional<SvdReduction>> reduced(to_size(s));
  std::vector<Matrix> grams(to_size(s));  // kept for PWCCA's weights only
  const bool pwcca_wanted = wants(config, "pwcca");
  const bool need_white = wants(config, "cca_r2") || wants(config, "cca_r2_mean") || wants(config, "lr_r2") || pwcca_wanted;
  const bool need_cross = need_white || wants(config, "procrustes") || wants(config, "svcca");
  for (int a = 0; a < s; ++a) {
    if (!fs[to_size(a)]) continue;
    gram_norm[to_size(a)] = acc.gram_norm(a);
    if (acc.plan().debiased) hsic_self[to_size(a)] = unbiased_hsic(hsic_terms(acc.kernel_sums(a, a)));
    if (need_cross) {
      Matrix g = acc.gram(a);
      trace[to_size(a)] = g.trace();
      if (need_white) white[to_size(a)] = whitening(g, config.rank_tolerance);
      if (wants(config, "svcca")) reduced[to_size(a)] = svd_reduction(g, config.svcca_keep);
      if (pwcca_wanted) grams[to_size(a)] = std::move(g);
    }
  }
  auto minibatch_cka = [&](int a, int b) {
    return acc.minibatch_hsic(a, b) / std::sqrt(acc.minibatch_hsic(a, a) * acc.minibatch_hsic(b, b));
  };
  auto set = [&](const std::string& m, int a, int b, double v) {
    if (r.values.count(m)) r.values[m](a, b) = v;
  };
  int pair = 0;  // feature-space pairs seen, for dealing them out
  for (int a = 0; a < s; ++a)
    for (int b = a; b < s; ++b) {
      const bool feature_space = fs[to_size(a)] && fs[to_size(b)];
      r.path(a, b) = r.path(b, a) =
          static_cast<std::int32_t>(feature_space ? PairPath::feature_space : PairPath::minibatch);
      if (acc.plan().minibatch) {
        const double v = minibatch_cka(a, b);
        set("minibatch_cka", a, b, v);
        set("minibatch_cka", b, a, v);
      }
      if (!feature_space) {  // CKA cells take the minibatch estimate; the cross-block measures are NaN
        const double v = minibatch_cka(a, b);
        for (const char* m : {"linear_cka", "debiased_cka"}) { set(m, a, b, v); set(m, b, a, v); }
        for (const auto& m : dealt) { set(m, a, b, nan); set(m, b, a, nan); }  // NaN + 0 = NaN
        continue;
      }
      const double cka = linear_cka(acc.cross_squared_norm(a, b), gram_norm[to_size(a)], gram_norm[to_size(b)]);
      set("linear_cka", a, b, cka);
      set("linear_cka", b, a, cka);
      if (acc.plan().debiased) {
        const double v = debiased_cka(unbiased_hsic(hsic_terms(acc.kernel_sums(a, b))),
                                      hsic_self[to_size(a)], hsic_self[to_size(b)]);
        set("debiased_cka", a, b, v);
        set("debiased_cka", b, a, v);
      }
      if (!need_cross || (pair++ % comm.size()) != comm.rank()) continue;
      const Matrix c = acc.cross(a, b);  // X_a' X_b
      if (need_white) {
        const auto &wa = *white[to_size(a)], &wb = *white[to_size(b)];
        set("cca_r2", a, b, cca_r2(c, wa, wb, sets[to_size(a)].columns()));
        set("cca_r2", b, a, cca_r2(c.transpose(), wb, wa, sets[to_size(b)].columns()));
        set("cca_r2_mean", a, b, cca_r2_mean(c, wa, wb));
        set("cca_r2_mean", b, a, cca_r2_mean(c.transpose(), wb, wa));
        set("lr_r2", a, b, lr_r2(c, wb, trace[to_size(a)]));
        set("lr_r2", b, a, lr_r2(c.transpose(), wa, trace[to_size(b)]));
        if (pwcca_wanted) {
          const double v = pwcca(c, grams[to_size(a)], wa, grams[to_size(b)], wb);
          set("pwcca", a, b, v);
          set("pwcca", b, a, v);
        }
      }
      if (wants(config, "procrustes")) {
        const double v = procrustes_distance(c, trace[to_size(a)], trace[to_size(b)]);
        set("procrustes", a, b, v);
        set("procrustes", b, a, v);
      }
      if (wants(config, "svcca")) {
        const double v = svcca(c, *reduced[to_size(a)], *reduced[to_size(b)]);
        set("svcca", a, b, v);
        set("svcca", b, a, v);
      }
    }

  for (const auto& m : config.measures)
    if (is_dealt(m)) par::all_reduce_sum(comm, std::span<double>(r.values[m].data(), static_cast<std::size_t>(r.values[m].size())));

  if (!boot.empty()) {
    std::vector<Matrix> reps;
    for (const auto& rep : boot) reps.push_back(bootstrap_cka(rep, split.name == "train"));
    Matrix lo = nan_matrix(s), hi = nan_matrix(s);
    for (int a = 0; a < s; ++a)
      for (int b = 0; b < s; ++b) {
        if (!fs[to_size(a)] || !fs[to_size(b)]) continue;
        std::vector<double> v;
        for (const auto& m : reps) v.push_back(m(a, b));
        lo(a, b) = percentile(v, 0.025);
        hi(a, b) = percentile(std::move(v), 0.975);
      }
    r.ci_low["linear_cka"] = lo;
    r.ci_high["linear_cka"] = hi;
  }
  if (acc.plan().permutations > 0) {
    Matrix p(s, s);
    for (int a = 0; a < s; ++a)
      for (int b = 0; b < s; ++b) {
        const double observed = acc.minibatch_hsic(a, b);
        int at_least_as_large = 0;
        for (int k = 0; k < acc.plan().permutations; ++k)
          at_least_as_large += acc.permuted_minibatch_hsic(k, a, b) >= observed ? 1 : 0;
        p(a, b) = (1.0 + at_least_as_large) / (1.0 + acc.plan().permutations);
      }
    r.p_value["minibatch_cka"] = p;
  }
  return r;
}

}  // namespace

int bootstrap_weight(std::uint64_t seed, int replicate, std::int64_t row) {
  const std::uint64_t h =
      splitmix64(splitmix64(splitmix64(seed ^ 0x5bd1e995ULL) ^ static_cast<std::uint64_t>(replicate)) ^
                 static_cast<std::uint64_t>(row));
  const double u = (static_cast<double>(h >> 11) + 0.5) / 9007199254740992.0;
  // Poisson(1) by inversion: P(k) = e^-1 / k!
  double p = std::exp(-1.0), cdf = p;
  int k = 0;
  while (u > cdf && k < 20) {
    ++k;
    p /= k;
    cdf += p;
  }
  return k;
}

std::vector<SplitResult> compute_similarity(const std::vector<store::FeatureSet>& sets,
                                            const std::vector<SplitRows>& splits,
                                            const Rows& train_rows, const SimilarityConfig& config,
                                            const boost::mpi::communicator& comm, par::StageProgress* progress) {
  const int s = static_cast<int>(sets.size());
  if (s == 0) throw SimilarityError("similarity: no feature sets selected");
  for (const auto& set : sets) {
    if (set.columns() <= 0)
      throw SimilarityError("similarity: feature set '" + set.name + "' has no columns (D = 0)");
    if (set.rows != sets.front().rows)
      throw SimilarityError("similarity: feature set '" + set.name + "' has " + std::to_string(set.rows) +
                            " rows but '" + sets.front().name + "' has " + std::to_string(sets.front().rows) +
                            " (different row counts: extracted from another features.h5?)");
  }
  auto sorted_rows = [&](const std::string& name, Rows rows) {
    std::sort(rows.begin(), rows.end());
    if (rows.size() < 4)
      throw SimilarityError("similarity: split '" + name + "' has " + std::to_string(rows.size()) +
                            " rows; at least 4 are needed");
    if (std::adjacent_find(rows.begin(), rows.end()) != rows.end())
      throw SimilarityError("similarity: split '" + name + "' lists a row twice");
    if (rows.front() < 0 || rows.back() >= sets.front().rows)
      throw SimilarityError("similarity: split '" + name + "' has row " + std::to_string(rows.back()) +
                            " outside the sets' " + std::to_string(sets.front().rows) + " rows");
    return rows;
  };

  AccumulatorPlan plan;
  bool any_wide = false;
  for (const auto& set : sets) {
    plan.dims.push_back(set.columns());
    plan.feature_space.push_back(set.columns() <= config.max_feature_space_dim);
    any_wide = any_wide || !plan.feature_space.back();
  }
  plan.debiased = wants(config, "debiased_cka");
  plan.minibatch = any_wide || wants(config, "minibatch_cka") || config.permutations > 0;
  plan.permutations = plan.minibatch ? config.permutations : 0;
  plan.seed = config.seed;
  AccumulatorPlan boot_plan{plan.dims, plan.feature_space, false, false, 0, config.seed};

  const double gib = static_cast<double>(1ULL << 30);
  const double b = static_cast<double>(config.minibatch_size);
  double bytes = 8.0 * static_cast<double>(plan.buffer_size() + to_size(config.bootstrap) * boot_plan.buffer_size());
  // The stacked chunk (and its weighted copy when bootstrapping).
  double stacked_dim = 0;
  std::size_t largest_split = 0;
  for (int i = 0; i < s; ++i)
    if (plan.feature_space[to_size(i)]) stacked_dim += static_cast<double>(plan.dims[to_size(i)]);
  for (const auto& split : splits) largest_split = std::max(largest_split, split.rows.size());
  bytes += 8.0 * stacked_dim * static_cast<double>(std::min(to_size(config.chunk_rows), largest_split)) *
           (config.bootstrap > 0 ? 2.0 : 1.0);
  // Minibatch Grams: a minibatch has b <= size < 2b rows, or the whole split when it is shorter.
  const double minibatch_rows = std::min(2 * b, static_cast<double>(largest_split));
  if (plan.minibatch) bytes += 8.0 * (s + 2) * minibatch_rows * minibatch_rows;
  if (comm.rank() == 0) {
    for (int i = 0; i < s; ++i)
      spdlog::info("similarity: '{}' (D = {}): {}", sets[to_size(i)].name, plan.dims[to_size(i)],
                   plan.feature_space[to_size(i)] ? "feature-space Gram blocks"
                                                  : fmt::format("minibatch path (b = {})", config.minibatch_size));
    spdlog::info("similarity: {} sets, accumulators {:.2f} GiB per rank{}", s, bytes / gib,
                 plan.minibatch ? fmt::format(", minibatch HSIC for all pairs (b = {})", config.minibatch_size) : "");
  }
  if (bytes / gib > config.max_accumulator_gib)
    throw SimilarityError(fmt::format(
        "similarity: accumulators would need {:.1f} GiB per rank (> max_accumulator_gib = {}); select "
        "fewer sets or lower max_feature_space_dim so wide sets take the minibatch path",
        bytes / gib, config.max_accumulator_gib));

  const Rows train = sorted_rows("train", train_rows);
  std::vector<store::FeatureReader> readers;
  collective_step(comm, [&] {  // opens every set's files, on each rank separately
    for (const auto& set : sets) readers.emplace_back(set);
  });
  std::vector<Vector> means;  // computed on the first pass that is not restored

  std::vector<SplitResult> results;
  for (const auto& split : splits) {
    // A unit of work: one split's pass, kept as its reduced sums (identical on every rank).
    if (par::stop_agreed(comm))
      throw Interrupted("similarity: stopped by signal before the " + split.name + " pass (" +
                        std::to_string(results.size()) + " of " + std::to_string(splits.size()) +
                        " passes done and kept)");
    const Rows rows = sorted_rows(split.name, split.rows);
    Accumulator acc(plan);
    std::vector<Accumulator> boot(to_size(config.bootstrap), Accumulator(boot_plan));
    std::vector<std::span<double>> buffers{acc.buffer()};
    for (auto& rep : boot) buffers.push_back(rep.buffer());
    const std::string unit = "split " + split.name;
    if (const auto saved = progress ? progress->find(unit) : std::nullopt) {
      std::size_t total = 0;
      for (const auto& b : buffers) total += b.size() * sizeof(double);
      if (saved->size() == total) {
        std::size_t at = 0;
        for (auto& b : buffers) {
          std::memcpy(b.data(), saved->data() + at, b.size() * sizeof(double));
          at += b.size() * sizeof(double);
        }
        if (comm.rank() == 0) spdlog::info("similarity: {} pass restored from an earlier attempt", split.name);
        results.push_back(measures_of(acc, boot, split, sets, config, comm));
        continue;
      }
    }
    if (means.empty()) means = train_means(readers, train, config.chunk_rows, comm);
    collective_step(comm, [&] {
      par::test_fault_point("similarity");
      std::vector<double> buffer;
      Matrix stacked;  // every feature-space set's chunk, read once for all its pairs
      for (const auto& unit : work_units(static_cast<std::int64_t>(rows.size()), plan.minibatch,
                                         config.minibatch_size, config.chunk_rows, comm)) {
        const std::span<const std::int64_t> chunk(rows.data() + unit.begin, to_size(unit.end - unit.begin));
        stacked.resize(acc.stacked_rows(), static_cast<Eigen::Index>(chunk.size()));
        for (int i = 0; i < s; ++i)
          if (plan.feature_space[to_size(i)])
            stacked.middleRows(acc.offset(i), plan.dims[to_size(i)]) =
                read_centred(readers[to_size(i)], chunk, means[to_size(i)], buffer);
        acc.add_rows(stacked);
        std::vector<double> weights(chunk.size());
        for (int k = 0; k < config.bootstrap; ++k) {
          for (std::size_t r = 0; r < chunk.size(); ++r)
            weights[r] = bootstrap_weight(config.seed, k, chunk[r]);
          boot[to_size(k)].add_rows(stacked, weights.data());
        }
        if (!plan.minibatch) continue;
        std::vector<Matrix> grams;  // K~ of every set for this minibatch
        for (int i = 0; i < s; ++i)
          grams.push_back(plan.feature_space[to_size(i)]
                              ? zero_diagonal_gram(stacked.middleRows(acc.offset(i), plan.dims[to_size(i)]))
                              : zero_diagonal_gram(read_centred(readers[to_size(i)], chunk, means[to_size(i)], buffer)));
        acc.add_minibatch(unit.minibatch, grams);
      }
    });
    par::all_reduce_sum(comm, acc.buffer());
    for (auto& rep : boot) par::all_reduce_sum(comm, rep.buffer());
    if (comm.rank() == 0) spdlog::info("similarity: {} pass done ({} rows)", split.name, rows.size());
    if (progress) {
      std::string bytes;
      for (const auto& b : buffers) bytes.append(reinterpret_cast<const char*>(b.data()), b.size() * sizeof(double));
      progress->save(unit, bytes);
    }
    results.push_back(measures_of(acc, boot, split, sets, config, comm));
  }
  return results;
}

}  // namespace cfma::sim
