#pragma once
// How the similarity job fits a set list into `max_accumulator_gib` per rank.
//
// One job holds the accumulators (accumulator.hpp) of a list of sets and computes every pair
// among them. When all the sets fit in one job, that is the plan: every rank streams its share of
// the rows into the one job and one all-reduce sums it. Otherwise the sets are packed, in order,
// into groups small enough that any TWO groups fit in one job, and there is one job per pair of
// groups (g, h), g < h: it computes the pairs across the two groups, and the first job that
// holds a group (g = 0) also its pairs within. Every pair of sets then comes from exactly one job.
//
// Jobs run on teams of ranks: T = min(jobs, P) teams, rank r in team r mod T, each team doing
// its jobs one after another (passes), its ranks splitting the rows and all-reducing the job's
// sums within the team. With few ranks a team does several passes; with many, each job gets
// ranks of its own. Each job reads only the columns of its sets, for all rows of the split.
// Jobs go to teams by their modelled work (multiply-adds: the Gram tiles times the rows, the
// minibatch Grams, the per-set eigendecompositions and per-pair CCA products), largest first to
// the least loaded team (LPT: the busiest team is within one job of the mean). A team runs its
// jobs in list order; the list runs (0,1) .. (0,G-1), then (1,G-1) .. (1,2), then (2,3) ..,
// so consecutive jobs share a group, whose per-set whitening a team doing both computes once
// (measured at 1 rank: 0.93x the time of the row-by-row order).
//
// The cost of the split: a group's Gram block is recomputed in each of the (groups - 1) jobs
// that hold it, so the products grow by at most 2 (groups - 1) / groups (< 2x) over one job;
// the bytes read grow to (groups - 1) x the set list's width per row.
#include <cstdint>
#include <string>
#include <vector>

#include "cfma/sim/accumulator.hpp"
#include "cfma/sim/config.hpp"
#include "cfma/store/feature_sets.hpp"

namespace cfma::sim {

struct SimilarityJob {
  int first = 0, second = 0;  // groups (equal when the plan has one group)
  std::vector<int> sets;      // global set indices, ascending
  double bytes = 0;           // accumulator bytes per rank while the job runs
  double work = 0;            // modelled multiply-adds over every split
};

struct SimilarityPlan {
  AccumulatorPlan all;                   // every set
  std::vector<std::vector<int>> groups;  // global set indices per group, in set order
  std::vector<SimilarityJob> jobs;
  int teams = 1;                         // jobs run concurrently
  double largest_job_bytes = 0;
  double bytes_read = 0;                 // over every split, by all ranks together (float32 values)
  std::vector<std::vector<std::size_t>> team_jobs;  // indices into `jobs` per team, ascending
  int passes() const;                                // jobs of the team with the most
  int team_of(int rank) const { return rank % teams; }
  // The indices into `jobs` that team `team` runs, in order.
  const std::vector<std::size_t>& jobs_of(int team) const { return team_jobs[static_cast<std::size_t>(team)]; }
  double team_work(int team) const;
  // True when pair (a, b) of global set indices is computed by `job` (exactly one job per pair).
  bool owns(const SimilarityJob& job, int a, int b) const;
  std::string describe() const;
};

// The accumulator plan of every set (widths, paths, which sums) for `config`.
AccumulatorPlan accumulator_plan(const std::vector<store::FeatureSet>& sets, const SimilarityConfig& config);
// The plan restricted to `sets` (global indices).
AccumulatorPlan job_accumulator_plan(const AccumulatorPlan& all, const std::vector<int>& sets);
// Bytes per rank of a job with accumulator plan `plan`: its buffer, the bootstrap copies, the
// stacked chunk (and its weighted and permuted copies), the read buffer, the minibatch Grams and
// the measures' per-set matrices.
double job_bytes(const AccumulatorPlan& plan, const SimilarityConfig& config, std::int64_t largest_split);

// The plan for `sets` on `ranks` ranks; `train_rows` (the means pass) and `split_rows` (rows of
// each split computed) size the chunks and the bytes read. Throws SimilarityError when two
// single sets do not fit in one job.
SimilarityPlan plan_similarity(const std::vector<store::FeatureSet>& sets, const SimilarityConfig& config,
                               std::int64_t train_rows, const std::vector<std::int64_t>& split_rows, int ranks);

}  // namespace cfma::sim
