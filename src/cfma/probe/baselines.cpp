#include "cfma/probe/baselines.hpp"

#include <algorithm>
#include <cmath>

#include "cfma/probe/logistic.hpp"

namespace cfma::probe {

namespace {

void majority(SetProbe& out, const std::string& target, const std::vector<int>& values, const ProbeLabels& labels) {
  const auto y = class_labels(values, labels.train, labels.test, labels.train);
  std::vector<double> counts(y.classes.size(), 0.0);
  for (const int c : y.train) counts[static_cast<std::size_t>(c)] += 1;
  const auto best = static_cast<int>(std::max_element(counts.begin(), counts.end()) - counts.begin());
  const double n_train = static_cast<double>(y.train.size());
  for (const auto& [split, rows] : {std::pair{"train", &y.train}, std::pair{"test", &y.test}}) {
    double correct = 0, loss = 0, seen = 0;
    for (const int c : *rows) {
      if (c == kUnseenClass) continue;
      correct += c == best ? 1 : 0;
      loss -= std::log(counts[static_cast<std::size_t>(c)] / n_train);
      seen += 1;
    }
    out.metrics.push_back({target, split, "accuracy", correct / static_cast<double>(rows->size())});
    out.metrics.push_back({target, split, "log_loss", seen > 0 ? loss / seen : std::nan("")});
  }
}

void train_mean(SetProbe& out, const std::string& target, const std::vector<double>& values, const ProbeLabels& labels) {
  double mean = 0;
  for (const auto r : labels.train) mean += values[static_cast<std::size_t>(r)];
  mean /= static_cast<double>(labels.train.size());
  for (const auto& [split, rows] : {std::pair{"train", &labels.train}, std::pair{"test", &labels.test}}) {
    double own_mean = 0;
    for (const auto r : *rows) own_mean += values[static_cast<std::size_t>(r)];
    own_mean /= static_cast<double>(rows->size());
    double sse = 0, sst = 0;
    for (const auto r : *rows) {
      const double v = values[static_cast<std::size_t>(r)];
      sse += (v - mean) * (v - mean);
      sst += (v - own_mean) * (v - own_mean);
    }
    out.metrics.push_back({target, split, "rmse", std::sqrt(sse / static_cast<double>(rows->size()))});
    out.metrics.push_back({target, split, "r2", sst > 0 ? 1.0 - sse / sst : (sse == 0 ? 1.0 : 0.0)});
  }
}

}  // namespace

SetProbe chance_baselines(const ProbeLabels& labels, const ProbeConfig& config) {
  SetProbe out;
  auto wants = [&](const char* t) { return wants_target(config, t); };
  if (wants("family")) majority(out, "family", labels.family, labels);
  if (wants("pitch_class")) majority(out, "pitch_class", std::vector<int>(labels.pitch.begin(), labels.pitch.end()), labels);
  if (wants("pitch")) train_mean(out, "pitch", labels.pitch, labels);
  if (wants("velocity")) train_mean(out, "velocity", labels.velocity, labels);
  out.solver = {{"baseline", "majority class / class priors / train mean"}};
  return out;
}

}  // namespace cfma::probe
