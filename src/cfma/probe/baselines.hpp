#pragma once
// Chance baselines of every probed target, from the labels alone (no features), the rows every
// probe table is read against:
//   classification (family, pitch_class): the majority train class (accuracy; scikit-learn's
//     DummyClassifier "most_frequent", the lowest class on a tie) and the train class priors
//     (log-loss; DummyClassifier "prior"); a test class without train rows counts as wrong;
//   regression (pitch, velocity): the train mean (RMSE and R^2, R^2 against the split's own
//     mean as sklearn's r2_score).
// The same metric names as a SetProbe, so that tables treat it as one more row.
#include "cfma/probe/probe.hpp"
#include "cfma/probe/probe_config.hpp"

namespace cfma::probe {

SetProbe chance_baselines(const ProbeLabels& labels, const ProbeConfig& config);

}  // namespace cfma::probe
