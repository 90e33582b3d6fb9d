// The similarity plan: any memory bound gives jobs that fit it and cover every pair of sets
// exactly once; a bound that cannot hold two sets is refused with the set's name.
#include <gtest/gtest.h>

#include <algorithm>

#include "cfma/core/error.hpp"
#include "cfma/sim/plan.hpp"

namespace cfma::sim {
namespace {

std::vector<store::FeatureSet> sets_of(const std::vector<std::int64_t>& widths) {
  std::vector<store::FeatureSet> sets;
  for (std::size_t i = 0; i < widths.size(); ++i) {
    store::FeatureSet s;
    s.name = "set" + std::to_string(i);
    s.rows = 1000;
    s.noise_columns = widths[i];  // widths only: the plan reads no file
    sets.push_back(s);
  }
  return sets;
}

TEST(SimilarityPlan, EveryPairFromExactlyOneJobWithinTheBound) {
  const auto sets = sets_of({300, 20, 310, 64, 64, 5, 250, 200, 90, 2});
  SimilarityConfig config;
  config.measures = {"linear_cka", "debiased_cka", "cca_r2"};
  config.chunk_rows = 256;
  const auto one = plan_similarity(sets, config, 700, {700, 300}, 3);
  ASSERT_EQ(one.groups.size(), 1u);
  ASSERT_EQ(one.jobs.size(), 1u);
  EXPECT_EQ(one.teams, 1);
  std::vector<int> group_counts;
  bool refused = false;
  for (const double fraction : {0.9, 0.7, 0.5, 0.35, 0.25, 0.1}) {
    SimilarityConfig bounded = config;
    bounded.max_accumulator_gib = fraction * one.largest_job_bytes / static_cast<double>(1ULL << 30);
    SimilarityPlan plan;
    try {
      plan = plan_similarity(sets, bounded, 700, {700, 300}, 3);
    } catch (const SimilarityError& e) {
      // A bound fails only below every larger bound that worked, naming a set that does not
      // fit twice in one job.
      refused = true;
      const std::string message = e.what();
      const auto at = message.find("set 'set");
      ASSERT_NE(at, std::string::npos) << message;
      const int named = std::stoi(message.substr(at + 8));
      EXPECT_GT(job_bytes(job_accumulator_plan(one.all, {named, named}), bounded, 700),
                bounded.max_accumulator_gib * (1ULL << 30));
      continue;
    }
    EXPECT_FALSE(refused) << fraction;
    group_counts.push_back(static_cast<int>(plan.groups.size()));
    const auto g = plan.groups.size();
    EXPECT_EQ(plan.jobs.size(), g * (g - 1) / 2);
    EXPECT_EQ(plan.teams, std::min<int>(3, static_cast<int>(plan.jobs.size())));
    for (const auto& job : plan.jobs) EXPECT_LE(job.bytes, bounded.max_accumulator_gib * (1ULL << 30));
    for (int a = 0; a < 10; ++a)
      for (int b = a; b < 10; ++b) {
        int owners = 0;
        for (const auto& job : plan.jobs)
          if (plan.owns(job, a, b)) {
            ++owners;
            EXPECT_TRUE(std::count(job.sets.begin(), job.sets.end(), a) && std::count(job.sets.begin(), job.sets.end(), b));
          }
        EXPECT_EQ(owners, 1) << fraction << ": pair " << a << "," << b;
      }
  }
  EXPECT_TRUE(refused);
  ASSERT_GE(group_counts.size(), 3u);
  EXPECT_LT(group_counts.front(), group_counts.back());  // a smaller bound, more groups
  EXPECT_GE(group_counts.back(), 4);
}

// Teams take the job list round robin, every job once, counts within one; consecutive jobs of
// the list share a group (a team keeps that group's whitening). 7 groups: 21 jobs.
TEST(SimilarityPlan, TeamsRunEveryJobOnceAndConsecutiveJobsShareAGroup) {
  const auto sets = sets_of({100, 100, 100, 100, 100, 100, 100});
  SimilarityConfig config;
  config.measures = {"linear_cka", "cca_r2"};
  const auto whole = plan_similarity(sets, config, 700, {700, 300}, 1);
  // Room for two sets and not four: every group is one set.
  config.max_accumulator_gib = 1.001 * job_bytes(job_accumulator_plan(whole.all, {0, 1}), config, 700) /
                               static_cast<double>(1ULL << 30);
  for (const int ranks : {1, 2, 4, 5, 21, 30}) {
    const auto plan = plan_similarity(sets, config, 700, {700, 300}, ranks);
    ASSERT_EQ(plan.groups.size(), 7u);
    ASSERT_EQ(plan.jobs.size(), 21u);
    std::vector<int> runs(plan.jobs.size(), 0);
    std::size_t smallest = plan.jobs.size(), largest = 0;
    for (int t = 0; t < plan.teams; ++t) {
      const auto mine = plan.jobs_of(t);
      for (std::size_t k = 0; k < mine.size(); ++k) {
        ++runs[mine[k]];
        if (k > 0) {
          EXPECT_GT(mine[k], mine[k - 1]) << ranks;  // in list order
        }
      }
      smallest = std::min(smallest, mine.size());
      largest = std::max(largest, mine.size());
    }
    for (std::size_t j = 0; j < runs.size(); ++j) EXPECT_EQ(runs[j], 1) << ranks << ": job " << j;
    EXPECT_EQ(static_cast<int>(largest), plan.passes()) << ranks;
    EXPECT_GE(smallest, 1u) << ranks;
  }
  const auto plan = plan_similarity(sets, config, 700, {700, 300}, 1);
  for (std::size_t j = 1; j < plan.jobs.size(); ++j) {
    const auto& a = plan.jobs[j - 1];
    const auto& b = plan.jobs[j];
    EXPECT_TRUE(a.first == b.first || a.first == b.second || a.second == b.first || a.second == b.second)
        << "jobs " << j - 1 << " and " << j;
  }
}

// Unequal groups (widths 40 to 400): the busiest team's modelled work is within one job of the
// mean and within LPT's 4/3 of the best possible.
TEST(SimilarityPlan, TeamsAreBalancedByModelledWork) {
  const auto sets = sets_of({400, 40, 300, 60, 200, 50, 350, 45, 120, 80});
  SimilarityConfig config;
  config.measures = {"linear_cka", "cca_r2"};
  const auto whole = plan_similarity(sets, config, 700, {700, 300}, 1);
  config.max_accumulator_gib = 1.001 * job_bytes(job_accumulator_plan(whole.all, {0, 0}), config, 700) /
                               static_cast<double>(1ULL << 30);  // the widest set twice, not more
  for (const int ranks : {2, 3, 4, 7}) {
    const auto plan = plan_similarity(sets, config, 700, {700, 300}, ranks);
    ASSERT_GE(plan.groups.size(), 5u) << ranks;
    double total = 0, largest_job = 0, busiest = 0;
    for (const auto& job : plan.jobs) {
      EXPECT_GT(job.work, 0.0);
      total += job.work;
      largest_job = std::max(largest_job, job.work);
    }
    for (int t = 0; t < plan.teams; ++t) busiest = std::max(busiest, plan.team_work(t));
    EXPECT_LE(busiest, total / plan.teams + largest_job) << ranks;
    // Graham's bound for LPT: at most 4/3 of the best possible, which is at least the mean and
    // the largest job.
    EXPECT_LE(busiest, 4.0 / 3.0 * std::max(total / plan.teams, largest_job) * (1 + 1e-12)) << ranks;
  }
}

}  // namespace
}  // namespace cfma::sim
