#pragma once
// Control tasks (Hewitt and Liang 2019, "Designing and Interpreting Probes with Control
// Tasks"): the same probe trained on labels that keep the task's structure but not its
// meaning. A probe that scores well on its control task learns the labels, not the features'
// content; selectivity = task score - control score says how much the features themselves
// carry. As H&L assign each word type a random tag drawn from the task's empirical
// distribution:
//   family: each instrument (NSynth instrument id) gets a family label drawn from the
//           empirical family distribution of the notes, so all notes of an instrument share it;
//   pitch:  each MIDI pitch value gets a pitch drawn from the empirical pitch distribution of
//           the notes (regression target; its class serves pitch_class's control).
// Draws are a pure function of (seed, instrument or pitch), independent of row order, splits
// and rank count: u = splitmix64(seed, key) in [0, 1), then the inverse empirical CDF.
#include <cstdint>
#include <vector>

namespace cfma::probe {

struct ControlTargets {
  std::vector<int> family;    // per row; empty when no instrument ids were given
  std::vector<double> pitch;  // per row
};

// `family` per row in [0, classes), `instrument` per row (may be empty: no family control),
// `pitch` per row.
ControlTargets control_targets(const std::vector<int>& family, int classes,
                               const std::vector<std::int64_t>& instrument, const std::vector<double>& pitch,
                               std::uint64_t seed);

}  // namespace cfma::probe
