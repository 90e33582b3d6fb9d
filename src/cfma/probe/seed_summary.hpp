#pragma once
// A probe score over the seeds of one configuration: mean, sample sd (n - 1) and the 95 %
// Student-t interval of the mean (scipy.stats.t.interval(0.95, n - 1, mean, sd / sqrt(n))).
// With one seed the sd and the interval are undefined (NaN): no spread can be estimated.
#include <vector>

namespace cfma::probe {

struct SeedSummary {
  double mean = 0, sd = 0, ci95_low = 0, ci95_high = 0;
  int n = 0;
};

SeedSummary summarize_seeds(const std::vector<double>& values);

}  // namespace cfma::probe
