#include "cfma/sim/similarity.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstring>
#include <optional>

#include <spdlog/spdlog.h>

#include "cfma/core/error.hpp"
#include "cfma/core/random.hpp"
#include "cfma/par/node.hpp"
#include "cfma/par/reduce.hpp"
#include "cfma/par/test_fault.hpp"
#include "cfma/par/world.hpp"
#include "cfma/sim/accumulator.hpp"
#include "cfma/sim/permutation_null.hpp"
#include "cfma/sim/plan.hpp"

namespace cfma::sim {

namespace {

using Rows = std::vector<std::int64_t>;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();
std::size_t to_size(std::int64_t v) { return static_cast<std::size_t>(v); }

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
// `world_rank` >= 0 names the failing rank by its world rank when `comm` is a team.
template <class F>
void collective_step(const boost::mpi::communicator& comm, F&& work, int world_rank = -1) {
  std::string error;
  try {
    work();
  } catch (const std::exception& e) {
    error = std::string("similarity: ") + e.what();
    if (world_rank >= 0 && error.rfind("[rank ", 0) != 0) error = "[rank " + std::to_string(world_rank) + "] " + error;
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

// The output matrices of one split, all zero (each cell is then added by the one rank that
// computes it), and the path of every cell.
SplitResult empty_result(const std::string& split, std::int64_t rows, const AccumulatorPlan& all,
                         const SimilarityConfig& config) {
  const auto s = static_cast<Eigen::Index>(all.dims.size());
  SplitResult r;
  r.split = split;
  r.rows = rows;
  for (const auto& m : config.measures) r.values[m] = Matrix::Zero(s, s);
  if (config.bootstrap > 0) r.ci_low["linear_cka"] = r.ci_high["linear_cka"] = Matrix::Zero(s, s);
  if (all.permutations > 0) r.p_value["minibatch_cka"] = Matrix::Zero(s, s);
  if (all.row_moments) r.null_sd["linear_cka_calibrated"] = Matrix::Zero(s, s);
  r.path.resize(s, s);
  for (Eigen::Index a = 0; a < s; ++a)
    for (Eigen::Index b = 0; b < s; ++b)
      r.path(a, b) = static_cast<std::int32_t>(all.feature_space[to_size(a)] && all.feature_space[to_size(b)]
                                                   ? PairPath::feature_space
                                                   : PairPath::minibatch);
  return r;
}

// Every float64 matrix of a result, in a fixed order (the world sum, the saved unit).
std::vector<std::span<double>> result_buffers(SplitResult& r) {
  std::vector<std::span<double>> out;
  for (auto* maps : {&r.values, &r.ci_low, &r.ci_high, &r.p_value, &r.null_sd})
    for (auto& [name, m] : *maps) out.emplace_back(m.data(), static_cast<std::size_t>(m.size()));
  return out;
}

// What the cross-block measures need of one set (from its Gram, so the same in every job that
// holds the set). Kept from one job to the next of the same team when both hold the set: a
// group's sets are in groups - 1 jobs, and their eigendecompositions dominate the measures.
struct PerSet {
  Matrix gram;  // kept for PWCCA's weights only
  double trace = 0;
  std::optional<Whitening> white;
  std::optional<SvdReduction> reduced;
};
using PerSetCache = std::map<int, std::optional<PerSet>>;  // global set index ->

// Adds this rank's share of the measures of `job` to `r`: the cells of the pairs the job owns
// (SimilarityPlan::owns). Cheap cells (CKA, CIs, p-values, the null) come from the team's rank
// 0; the cross-block measures (CCA, LR, Procrustes, SVCCA, PWCCA: a few products and a symmetric
// eigensolver each) are dealt out to the team, pair k to team rank k mod size. The world then
// sums: every cell is computed by one rank, so the result depends on neither P nor the plan.
void add_job_measures(const Accumulator& acc, const std::vector<Accumulator>& boot, const SimilarityJob& job,
                      const SimilarityPlan& plan, const std::string& split, const std::vector<store::FeatureSet>& sets,
                      const SimilarityConfig& config, const boost::mpi::communicator& team, PerSetCache& per_set,
                      SplitResult& r) {
  const int s = acc.sets();
  const auto& fs = acc.plan().feature_space;
  const bool lead = team.rank() == 0;
  const std::vector<std::string> dealt = {"cca_r2", "cca_r2_mean", "lr_r2", "procrustes", "svcca", "pwcca"};
  const bool pwcca_wanted = wants(config, "pwcca");
  const bool need_white = wants(config, "cca_r2") || wants(config, "cca_r2_mean") || wants(config, "lr_r2") || pwcca_wanted;
  const bool need_cross = wants_cross_measures(config);
  auto global = [&](int local) { return job.sets[to_size(local)]; };
  auto set = [&](const std::string& m, int a, int b, double v) {
    if (auto it = r.values.find(m); it != r.values.end()) it->second(global(a), global(b)) = v;
  };

  // Per-set quantities, computed on first use (a team rank needs only the sets of its pairs).
  std::vector<double> gram_norm(to_size(s), nan), hsic_self(to_size(s), nan);
  for (int a = 0; a < s; ++a)
    if (fs[to_size(a)]) {
      gram_norm[to_size(a)] = acc.gram_norm(a);
      if (acc.plan().debiased) hsic_self[to_size(a)] = unbiased_hsic(hsic_terms(acc.kernel_sums(a, a)));
    }
  auto of = [&](int a) -> const PerSet& {
    auto& p = per_set[global(a)];
    if (!p) {
      p.emplace();
      Matrix g = acc.gram(a);
      p->trace = g.trace();
      if (need_white) p->white = whitening(g, config.rank_tolerance);
      if (wants(config, "svcca")) p->reduced = svd_reduction(g, config.svcca_keep);
      if (pwcca_wanted) p->gram = std::move(g);
    }
    return *p;
  };
  std::vector<std::optional<RowMoments>> moments(to_size(s));  // the calibrated CKA's, on the lead
  auto moments_of = [&](int a) -> const RowMoments& {
    auto& m = moments[to_size(a)];
    if (!m) m = row_moments(acc.gram(a), acc.column_sums(a), acc.row_norm4_sum(a), acc.row_norm2_weighted_sum(a), acc.rows());
    return *m;
  };
  auto minibatch_cka = [&](int a, int b) {
    return acc.minibatch_hsic(a, b) / std::sqrt(acc.minibatch_hsic(a, a) * acc.minibatch_hsic(b, b));
  };

  const bool recentre = split == "train";  // train replicates re-centred by their own weighted mean
  auto boot_cross = [&](const Accumulator& rep, int a, int b) {
    Matrix c = rep.cross(a, b);
    if (recentre) c -= rep.column_sums(a) * rep.column_sums(b).transpose() / rep.rows();
    return c;
  };
  std::vector<std::vector<double>> boot_norm(boot.size());
  if (lead)
    for (std::size_t k = 0; k < boot.size(); ++k) {
      boot_norm[k].assign(to_size(s), nan);
      for (int a = 0; a < s; ++a)
        if (fs[to_size(a)]) boot_norm[k][to_size(a)] = boot_cross(boot[k], a, a).norm();
    }

  int pair = 0;  // owned feature-space pairs seen, for dealing them out
  for (int a = 0; a < s; ++a)
    for (int b = a; b < s; ++b) {
      const int ga = global(a), gb = global(b);
      if (!plan.owns(job, ga, gb)) continue;
      const bool feature_space = fs[to_size(a)] && fs[to_size(b)];
      if (lead) {
        if (acc.plan().minibatch) {
          const double v = minibatch_cka(a, b);
          set("minibatch_cka", a, b, v);
          set("minibatch_cka", b, a, v);
        }
        if (acc.plan().permutations > 0) {
          const double observed = acc.minibatch_hsic(a, b);
          int at_least_as_large = 0;
          for (int k = 0; k < acc.plan().permutations; ++k)
            at_least_as_large += acc.permuted_minibatch_hsic(k, a, b) >= observed ? 1 : 0;
          auto& p = r.p_value.at("minibatch_cka");
          p(ga, gb) = p(gb, ga) = (1.0 + at_least_as_large) / (1.0 + acc.plan().permutations);
        }
        if (!boot.empty()) {
          double lo = nan, hi = nan;
          if (feature_space) {
            std::vector<double> v;
            for (std::size_t k = 0; k < boot.size(); ++k)
              v.push_back(linear_cka(boot_cross(boot[k], a, b).squaredNorm(), boot_norm[k][to_size(a)],
                                     boot_norm[k][to_size(b)]));
            lo = percentile(v, 0.025);
            hi = percentile(std::move(v), 0.975);
          }
          r.ci_low.at("linear_cka")(ga, gb) = r.ci_low.at("linear_cka")(gb, ga) = lo;
          r.ci_high.at("linear_cka")(ga, gb) = r.ci_high.at("linear_cka")(gb, ga) = hi;
        }
      }
      if (!feature_space) {  // CKA cells take the minibatch estimate; the cross-block measures are NaN
        if (!lead) continue;
        const double v = minibatch_cka(a, b);
        for (const char* m : {"linear_cka", "debiased_cka"}) { set(m, a, b, v); set(m, b, a, v); }
        for (const auto& m : dealt) { set(m, a, b, nan); set(m, b, a, nan); }
        if (acc.plan().row_moments) {
          set("linear_cka_calibrated", a, b, nan);
          set("linear_cka_calibrated", b, a, nan);
          r.null_sd.at("linear_cka_calibrated")(ga, gb) = r.null_sd.at("linear_cka_calibrated")(gb, ga) = nan;
        }
        continue;
      }
      if (lead) {
        const double cka = linear_cka(acc.cross_squared_norm(a, b), gram_norm[to_size(a)], gram_norm[to_size(b)]);
        set("linear_cka", a, b, cka);
        set("linear_cka", b, a, cka);
        if (acc.plan().debiased) {
          const double v = debiased_cka(unbiased_hsic(hsic_terms(acc.kernel_sums(a, b))), hsic_self[to_size(a)],
                                        hsic_self[to_size(b)]);
          set("debiased_cka", a, b, v);
          set("debiased_cka", b, a, v);
        }
        if (acc.plan().row_moments) {
          // Rows of one set in every order: the Grams (the denominator) are unchanged, only the
          // cross product moves. Score minus the null's mean, and the null's sd.
          const auto null = permutation_null(moments_of(a), moments_of(b));
          const double scale = gram_norm[to_size(a)] * gram_norm[to_size(b)];
          set("linear_cka_calibrated", a, b, cka - null.mean / scale);
          set("linear_cka_calibrated", b, a, cka - null.mean / scale);
          r.null_sd.at("linear_cka_calibrated")(ga, gb) = r.null_sd.at("linear_cka_calibrated")(gb, ga) =
              null.sd / scale;
        }
      }
      if (!need_cross || (pair++ % team.size()) != team.rank()) continue;
      const Matrix c = acc.cross(a, b);  // X_a' X_b
      const PerSet &pa = of(a), &pb = of(b);
      if (need_white) {
        const auto &wa = *pa.white, &wb = *pb.white;
        const auto p = cca_lr_pair(c, wa, wb, sets[to_size(ga)].columns(), sets[to_size(gb)].columns(), pa.trace, pb.trace);
        set("cca_r2", a, b, p.cca_xy);
        set("cca_r2", b, a, p.cca_yx);
        set("cca_r2_mean", a, b, p.cca_mean);
        set("cca_r2_mean", b, a, p.cca_mean);
        set("lr_r2", a, b, p.lr_xy);
        set("lr_r2", b, a, p.lr_yx);
        if (pwcca_wanted) {
          const double v = pwcca_from_canonical(p.canonical, pa.gram, wa, pb.gram, wb);
          set("pwcca", a, b, v);
          set("pwcca", b, a, v);
        }
      }
      if (wants(config, "procrustes")) {
        const double v = procrustes_distance(c, pa.trace, pb.trace);
        set("procrustes", a, b, v);
        set("procrustes", b, a, v);
      }
      if (wants(config, "svcca")) {
        const double v = svcca(c, *pa.reduced, *pb.reduced);
        set("svcca", a, b, v);
        set("svcca", b, a, v);
      }
    }
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

  const Rows train = sorted_rows("train", train_rows);
  std::vector<Rows> split_rows;
  std::vector<std::int64_t> split_sizes;
  for (const auto& split : splits) {
    split_rows.push_back(sorted_rows(split.name, split.rows));
    split_sizes.push_back(static_cast<std::int64_t>(split_rows.back().size()));
  }
  const SimilarityPlan plan =
      plan_similarity(sets, config, static_cast<std::int64_t>(train.size()), split_sizes, comm.size());
  const auto& all = plan.all;
  if (comm.rank() == 0) {
    for (int i = 0; i < s; ++i)
      spdlog::info("similarity: '{}' (D = {}): {}", sets[to_size(i)].name, all.dims[to_size(i)],
                   all.feature_space[to_size(i)] ? "feature-space Gram blocks"
                                                 : fmt::format("minibatch path (b = {})", config.minibatch_size));
    spdlog::info("similarity: {} sets{}; plan: {}", s,
                 all.minibatch ? fmt::format(", minibatch HSIC for all pairs (b = {})", config.minibatch_size) : "",
                 plan.describe());
  }

  // The bound is per rank: the ranks sharing a node must fit in its memory together (an
  // OOM kill mid-pass would cost the pass; a clear error now costs nothing).
  const int node_ranks = par::ranks_on_this_node(comm);
  collective_step(comm, [&] {
    const auto available = par::available_memory_bytes();
    const double gib = static_cast<double>(1ULL << 30), needed = plan.largest_job_bytes * node_ranks;
    if (available && needed > *available)
      throw SimilarityError(fmt::format(
          "the plan's largest job needs {:.2f} GiB per rank and {} ranks share {} ({:.2f} GiB needed), which has "
          "{:.2f} GiB available; lower max_accumulator_gib to {:.2f} or run fewer ranks per node",
          plan.largest_job_bytes / gib, node_ranks, par::host_name(), needed / gib, *available / gib,
          0.8 * *available / node_ranks / gib));
  }, comm.rank());

  std::vector<store::FeatureReader> readers;
  collective_step(comm, [&] {  // opens every set's files, on each rank separately
    for (const auto& set : sets) readers.emplace_back(set);
  });
  const int team_index = plan.team_of(comm.rank());
  const boost::mpi::communicator team = comm.split(team_index);
  std::vector<Vector> means;  // computed on the first pass that is not restored

  std::vector<SplitResult> results;
  for (std::size_t split_index = 0; split_index < splits.size(); ++split_index) {
    const auto& split = splits[split_index];
    const Rows& rows = split_rows[split_index];
    // A unit of work: one split's results (identical on every rank).
    if (par::stop_agreed(comm))
      throw Interrupted("similarity: stopped by signal before the " + split.name + " pass (" +
                        std::to_string(results.size()) + " of " + std::to_string(splits.size()) +
                        " passes done and kept)");
    SplitResult result = empty_result(split.name, static_cast<std::int64_t>(rows.size()), all, config);
    auto buffers = result_buffers(result);
    std::size_t total = 0;
    for (const auto& b : buffers) total += b.size() * sizeof(double);
    const std::string unit = "split " + split.name;
    if (const auto saved = progress ? progress->find(unit) : std::nullopt; saved && saved->size() == total) {
      std::size_t at = 0;
      for (auto& b : buffers) {
        std::memcpy(b.data(), saved->data() + at, b.size() * sizeof(double));
        at += b.size() * sizeof(double);
      }
      if (comm.rank() == 0) spdlog::info("similarity: {} pass restored from an earlier attempt", split.name);
      results.push_back(std::move(result));
      continue;
    }
    if (means.empty()) means = train_means(readers, train, config.chunk_rows, comm);

    // This team's jobs, one pass each; a failure is agreed within the team (so its ranks leave
    // together), then over the world below.
    std::string error;
    PerSetCache per_set;
    try {
      const auto team_jobs = plan.jobs_of(team_index);
      for (std::size_t position = 0; position < team_jobs.size(); ++position) {
        const auto& job = plan.jobs[team_jobs[position]];
        const AccumulatorPlan local = job_accumulator_plan(all, job.sets);
        const AccumulatorPlan boot_plan{local.dims, local.feature_space, false, false, 0, false, config.seed};
        Accumulator acc(local);
        // One accumulator per replicate, built in place: a prototype to copy from would hold a
        // whole Gram buffer more while `acc` exists.
        std::vector<Accumulator> boot;
        boot.reserve(to_size(config.bootstrap));
        for (int k = 0; k < config.bootstrap; ++k) boot.emplace_back(boot_plan);
        std::vector<store::FeatureReader*> job_readers;
        std::vector<const Vector*> job_means;
        for (const int i : job.sets) {
          job_readers.push_back(&readers[to_size(i)]);
          job_means.push_back(&means[to_size(i)]);
        }
        const int js = static_cast<int>(job.sets.size());
        std::vector<char> minibatch_pairs(to_size(js) * to_size(js), 0);  // owned pairs, and every set with itself
        for (int a = 0; a < js; ++a)
          for (int b = a; b < js; ++b)
            minibatch_pairs[to_size(a) + to_size(b) * to_size(js)] =
                a == b || plan.owns(job, job.sets[to_size(a)], job.sets[to_size(b)]);
        collective_step(team, [&] {
          par::test_fault_point("similarity");
          std::vector<double> buffer;
          Matrix stacked;  // every feature-space set's chunk, read once for all its pairs
          for (const auto& unit : work_units(static_cast<std::int64_t>(rows.size()), local.minibatch,
                                             config.minibatch_size, config.chunk_rows, team)) {
            const std::span<const std::int64_t> chunk(rows.data() + unit.begin, to_size(unit.end - unit.begin));
            stacked.resize(acc.stacked_rows(), static_cast<Eigen::Index>(chunk.size()));
            for (int i = 0; i < js; ++i)
              if (local.feature_space[to_size(i)])
                stacked.middleRows(acc.offset(i), local.dims[to_size(i)]) =
                    read_centred(*job_readers[to_size(i)], chunk, *job_means[to_size(i)], buffer);
            acc.add_rows(stacked);
            std::vector<double> weights(chunk.size());
            for (int k = 0; k < config.bootstrap; ++k) {
              for (std::size_t r = 0; r < chunk.size(); ++r) weights[r] = bootstrap_weight(config.seed, k, chunk[r]);
              boot[to_size(k)].add_rows(stacked, weights.data());
            }
            if (!local.minibatch) continue;
            std::vector<Matrix> grams;  // K~ of every set for this minibatch
            for (int i = 0; i < js; ++i)
              grams.push_back(local.feature_space[to_size(i)]
                                  ? zero_diagonal_gram(stacked.middleRows(acc.offset(i), local.dims[to_size(i)]))
                                  : zero_diagonal_gram(read_centred(*job_readers[to_size(i)], chunk,
                                                                    *job_means[to_size(i)], buffer)));
            acc.add_minibatch(unit.minibatch, grams, &minibatch_pairs);
          }
        }, comm.rank());
        par::all_reduce_sum(team, acc.buffer());
        for (auto& rep : boot) par::all_reduce_sum(team, rep.buffer());
        collective_step(team, [&] {
          add_job_measures(acc, boot, job, plan, split.name, sets, config, team, per_set, result);
          // Keep what the team's next job also needs, drop the rest before its accumulators.
          const SimilarityJob* next = position + 1 < team_jobs.size() ? &plan.jobs[team_jobs[position + 1]] : nullptr;
          for (auto it = per_set.begin(); it != per_set.end();) {
            const bool kept = next && std::binary_search(next->sets.begin(), next->sets.end(), it->first);
            it = kept ? std::next(it) : per_set.erase(it);
          }
        }, comm.rank());
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (auto message = par::agreed_error(comm, error); !message.empty()) throw SimilarityError(message);
    for (auto& b : buffers) par::all_reduce_sum(comm, b);
    if (comm.rank() == 0) spdlog::info("similarity: {} pass done ({} rows)", split.name, rows.size());
    if (progress) {
      std::string bytes;
      for (const auto& b : buffers) bytes.append(reinterpret_cast<const char*>(b.data()), b.size() * sizeof(double));
      progress->save(unit, bytes);
    }
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace cfma::sim
