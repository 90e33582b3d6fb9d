#include "cfma/probe/seed_summary.hpp"

#include <cmath>
#include <limits>

#include <boost/math/distributions/students_t.hpp>

#include "cfma/core/error.hpp"

namespace cfma::probe {

SeedSummary summarize_seeds(const std::vector<double>& values) {
  if (values.empty()) throw ProbeError("summary over seeds of an empty list");
  SeedSummary s;
  s.n = static_cast<int>(values.size());
  for (const double v : values) s.mean += v;
  s.mean /= s.n;
  if (s.n < 2) {
    s.sd = s.ci95_low = s.ci95_high = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  double squares = 0;
  for (const double v : values) squares += (v - s.mean) * (v - s.mean);
  s.sd = std::sqrt(squares / (s.n - 1));
  const boost::math::students_t t(s.n - 1);
  const double half = boost::math::quantile(t, 0.975) * s.sd / std::sqrt(static_cast<double>(s.n));
  s.ci95_low = s.mean - half;
  s.ci95_high = s.mean + half;
  return s;
}

}  // namespace cfma::probe
