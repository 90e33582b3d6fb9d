#include "cfma/sim/plan.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "cfma/core/error.hpp"

namespace cfma::sim {

namespace {
std::size_t to_size(std::int64_t v) { return static_cast<std::size_t>(v); }
constexpr double gib = static_cast<double>(1ULL << 30);

// Sets `a` then `b` (global indices) as one job's list; `b` may repeat `a` (the doubled group
// that sizes the packing).
AccumulatorPlan concatenated(const AccumulatorPlan& all, const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<int> both = a;
  both.insert(both.end(), b.begin(), b.end());
  return job_accumulator_plan(all, both);
}
}  // namespace

AccumulatorPlan accumulator_plan(const std::vector<store::FeatureSet>& sets, const SimilarityConfig& config) {
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
  plan.row_moments = wants(config, "linear_cka_calibrated");
  plan.seed = config.seed;
  return plan;
}

AccumulatorPlan job_accumulator_plan(const AccumulatorPlan& all, const std::vector<int>& sets) {
  AccumulatorPlan p = all;
  p.dims.clear();
  p.feature_space.clear();
  for (const int i : sets) {
    p.dims.push_back(all.dims[to_size(i)]);
    p.feature_space.push_back(all.feature_space[to_size(i)]);
  }
  return p;
}

double job_bytes(const AccumulatorPlan& plan, const SimilarityConfig& config, std::int64_t largest_split) {
  const AccumulatorPlan boot{plan.dims, plan.feature_space, false, false, 0, false, plan.seed};
  double stacked = 0, widest = 0;
  for (std::size_t i = 0; i < plan.dims.size(); ++i) {
    widest = std::max(widest, static_cast<double>(plan.dims[i]));
    if (plan.feature_space[i]) stacked += static_cast<double>(plan.dims[i]);
  }
  // Rows per unit of work: a chunk, or a minibatch (b <= size < 2b, or the whole split).
  const double split = static_cast<double>(largest_split);
  const double unit_rows = plan.minibatch ? std::min(2.0 * static_cast<double>(config.minibatch_size), split)
                                          : std::min(static_cast<double>(config.chunk_rows), split);
  double bytes = 8.0 * static_cast<double>(plan.buffer_size() + to_size(config.bootstrap) * boot.buffer_size());
  const double chunk_copies = 1.0 + (config.bootstrap > 0 ? 1.0 : 0.0);
  bytes += 8.0 * unit_rows * (stacked * chunk_copies + widest);
  if (plan.minibatch) bytes += 8.0 * (static_cast<double>(plan.dims.size()) + 2.0) * unit_rows * unit_rows;
  // The measures' per-set data, D^2 values each (whitening, PWCCA's Gram, SVCCA's directions),
  // and an eigensolver's working copies of the widest feature-space set (one Gram copy for the
  // calibrated CKA's null).
  const double per_set = (wants(config, "cca_r2") || wants(config, "cca_r2_mean") || wants(config, "lr_r2") ||
                                  wants(config, "pwcca") ? 1.0 : 0.0) +
                         (wants(config, "pwcca") ? 1.0 : 0.0) + (wants(config, "svcca") ? 1.0 : 0.0);
  double squares = 0, widest_fs = 0;
  for (std::size_t i = 0; i < plan.dims.size(); ++i)
    if (plan.feature_space[i]) {
      const double d = static_cast<double>(plan.dims[i]);
      squares += d * d;
      widest_fs = std::max(widest_fs, d);
    }
  const double copies =
      per_set > 0 || wants(config, "procrustes") ? 3.0 : wants(config, "linear_cka_calibrated") ? 1.0 : 0.0;
  bytes += 8.0 * (per_set * squares + copies * widest_fs * widest_fs);
  return bytes;
}

bool SimilarityPlan::owns(const SimilarityJob& job, int a, int b) const {
  if (groups.size() <= 1) return true;
  auto group_of = [&](int set) {
    for (std::size_t g = 0; g < groups.size(); ++g)
      if (std::binary_search(groups[g].begin(), groups[g].end(), set)) return static_cast<int>(g);
    return -1;
  };
  int ga = group_of(a), gb = group_of(b);
  if (ga > gb) std::swap(ga, gb);
  if (ga != gb) return job.first == ga && job.second == gb;
  // Pairs within group g: in job (0, 1) for groups 0 and 1, in job (0, g) for the others.
  return ga <= 1 ? (job.first == 0 && job.second == 1) : (job.first == 0 && job.second == ga);
}

int SimilarityPlan::passes() const {
  std::size_t most = 0;
  for (const auto& mine : team_jobs) most = std::max(most, mine.size());
  return static_cast<int>(most);
}

double SimilarityPlan::team_work(int team) const {
  double w = 0;
  for (const auto j : jobs_of(team)) w += jobs[j].work;
  return w;
}

std::string SimilarityPlan::describe() const {
  std::string widths;
  std::int64_t narrowest = 0, widest = 0;
  std::size_t fewest = 0, most = 0;
  for (std::size_t k = 0; k < groups.size(); ++k) {
    std::int64_t w = 0;
    for (const int i : groups[k]) w += all.dims[to_size(i)];
    if (groups.size() <= 4) widths += (widths.empty() ? "" : ", ") + fmt::format("{} sets / {} columns", groups[k].size(), w);
    narrowest = k == 0 ? w : std::min(narrowest, w);
    widest = std::max(widest, w);
    fewest = k == 0 ? groups[k].size() : std::min(fewest, groups[k].size());
    most = std::max(most, groups[k].size());
  }
  if (groups.size() > 4) widths = fmt::format("{}-{} sets / {}-{} columns each", fewest, most, narrowest, widest);
  double busiest = 0, total = 0;
  for (int t = 0; t < teams; ++t) {
    busiest = std::max(busiest, team_work(t));
    total += team_work(t);
  }
  return fmt::format("{} group{} ({}), {} job{} on {} team{} (up to {} pass{} per team, busiest team {:.2f}x the "
                     "mean work), largest job {:.3f} GiB per rank, {:.3f} GiB read in all",
                     groups.size(), groups.size() == 1 ? "" : "s", widths, jobs.size(), jobs.size() == 1 ? "" : "s",
                     teams, teams == 1 ? "" : "s", passes(), passes() == 1 ? "" : "es",
                     total > 0 ? busiest * teams / total : 1.0, largest_job_bytes / gib, bytes_read / gib);
}

SimilarityPlan plan_similarity(const std::vector<store::FeatureSet>& sets, const SimilarityConfig& config,
                               std::int64_t train_rows, const std::vector<std::int64_t>& split_rows, int ranks) {
  SimilarityPlan plan;
  plan.all = accumulator_plan(sets, config);
  const std::int64_t largest = split_rows.empty() ? train_rows : *std::max_element(split_rows.begin(), split_rows.end());
  const double limit = config.max_accumulator_gib * gib;
  const int s = static_cast<int>(sets.size());
  std::vector<int> every(to_size(s));
  for (int i = 0; i < s; ++i) every[to_size(i)] = i;

  if (job_bytes(plan.all, config, largest) <= limit) {
    plan.groups = {every};
  } else {
    // Pack sets in order; a group may grow while two copies of it fit in one job, so that any
    // two groups do: the stacked widths, S and the buffer terms (at most quadratic in them)
    // of a union of two groups are bounded by those of the larger group doubled.
    std::vector<int> group;
    for (int i = 0; i < s;) {
      std::vector<int> grown = group;
      grown.push_back(i);
      if (job_bytes(concatenated(plan.all, grown, grown), config, largest) <= limit) {
        group = std::move(grown);
        ++i;
        continue;
      }
      if (group.empty())
        throw SimilarityError(fmt::format(
            "similarity: set '{}' (D = {}) with any other set needs {:.3f} GiB per rank (> max_accumulator_gib = {}); "
            "raise the bound, or lower max_feature_space_dim or minibatch_size",
            sets[to_size(i)].name, plan.all.dims[to_size(i)],
            job_bytes(concatenated(plan.all, {i}, {i}), config, largest) / gib, config.max_accumulator_gib));
      plan.groups.push_back(std::move(group));
      group.clear();  // set i starts the next group (or fails on its own)
    }
    plan.groups.push_back(std::move(group));
  }

  const auto g = static_cast<int>(plan.groups.size());
  if (g == 1) {
    plan.jobs.push_back({0, 0, every, 0});
  } else {
    // Row a of the pair triangle ascending for even a, descending for odd a: the last job of a
    // row and the first of the next share group G-1 or a+1.
    for (int a = 0; a < g; ++a)
      for (int k = 0; k < g - a - 1; ++k) {
        const int b = a % 2 == 0 ? a + 1 + k : g - 1 - k;
        SimilarityJob job{a, b, plan.groups[to_size(a)], 0};
        job.sets.insert(job.sets.end(), plan.groups[to_size(b)].begin(), plan.groups[to_size(b)].end());
        plan.jobs.push_back(std::move(job));
      }
  }
  // Values read from the files (noise is generated): the means pass reads every set once.
  auto read_width = [&](const std::vector<int>& list) {
    double w = 0;
    for (const int i : list)
      if (!sets[to_size(i)].is_noise()) w += static_cast<double>(plan.all.dims[to_size(i)]);
    return w;
  };
  plan.bytes_read = 4.0 * read_width(every) * static_cast<double>(train_rows);
  for (auto& job : plan.jobs) {
    const auto local = job_accumulator_plan(plan.all, job.sets);
    job.bytes = job_bytes(local, config, largest);
    plan.largest_job_bytes = std::max(plan.largest_job_bytes, job.bytes);
    for (const auto rows : split_rows) plan.bytes_read += 4.0 * static_cast<double>(rows) * read_width(job.sets);
  }
  // Modelled work of each job (multiply-adds), for balancing the teams.
  double all_rows = 0;
  for (const auto rows : split_rows) all_rows += static_cast<double>(rows);
  const bool cross_measures = wants_cross_measures(config);
  const auto splits = static_cast<double>(split_rows.size());
  for (auto& job : plan.jobs) {
    double fs_width = 0, width = 0, measures = 0;
    auto dim = [&](int i) { return static_cast<double>(plan.all.dims[to_size(i)]); };
    auto fs = [&](int i) { return static_cast<bool>(plan.all.feature_space[to_size(i)]); };
    for (const int i : job.sets) {
      width += dim(i);
      if (!fs(i)) continue;
      fs_width += dim(i);
      measures += 4.0 * dim(i) * dim(i) * dim(i);  // a symmetric eigendecomposition with vectors
    }
    for (std::size_t a = 0; a < job.sets.size(); ++a)
      for (std::size_t b = a + 1; b < job.sets.size(); ++b) {
        const int x = job.sets[a], y = job.sets[b];
        if (fs(x) && fs(y) && plan.owns(job, x, y)) measures += 2.0 * dim(x) * dim(y) * (dim(y) + 2.0 * dim(x));
      }
    job.work = all_rows * TiledGram(static_cast<Eigen::Index>(fs_width)).multiply_adds_per_row() +
               (plan.all.minibatch ? all_rows * static_cast<double>(config.minibatch_size) * width : 0.0) +
               (cross_measures ? splits * measures : 0.0);
  }
  plan.teams = std::max(1, std::min(ranks, static_cast<int>(plan.jobs.size())));
  // Largest job first to the least loaded team (ties: the lower job, the lower team).
  std::vector<std::size_t> order(plan.jobs.size());
  for (std::size_t j = 0; j < order.size(); ++j) order[j] = j;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return plan.jobs[x].work > plan.jobs[y].work; });
  plan.team_jobs.assign(to_size(plan.teams), {});
  std::vector<double> load(to_size(plan.teams), 0.0);
  for (const auto j : order) {
    const auto team = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    plan.team_jobs[team].push_back(j);
    load[team] += plan.jobs[j].work;
  }
  for (auto& mine : plan.team_jobs) std::sort(mine.begin(), mine.end());
  return plan;
}

}  // namespace cfma::sim
