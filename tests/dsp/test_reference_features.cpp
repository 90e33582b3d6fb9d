// The feature extractor against librosa 0.9.2 / scipy 1.10.1 on the 24 nsynth-mini notes, for
// both pad modes, and the mel_db-derived building blocks on the reference's own mel_db.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "cfma/dsp/mel_db_features.hpp"
#include "cfma/dsp/wavelet.hpp"
#include "tests/dsp/reference_data.hpp"

namespace {

namespace ref = cfma::test::dsp_reference;
using cfma::dsp::PadMode;

constexpr std::size_t kNotes = 24, kBins = 128, kFrames = 128;

class ReferencePerPadMode : public ::testing::TestWithParam<PadMode> {
 protected:
  std::string path(const std::string& name) const { return ref::group(GetParam()) + name; }
};

INSTANTIATE_TEST_SUITE_P(BothPadModes, ReferencePerPadMode,
                         ::testing::Values(PadMode::reflect, PadMode::constant),
                         [](const auto& info) { return std::string(cfma::dsp::to_string(info.param)); });

TEST_P(ReferencePerPadMode, MelDbMatchesLibrosa) {
  const auto& expected = ref::dataset(path("mel_db"));
  const auto& got = ref::computed(GetParam(), 16000);
  ASSERT_EQ(expected.size(), kNotes * kBins * kFrames);
  double worst = 0;
  for (std::size_t i = 0; i < kNotes; ++i) {
    ASSERT_EQ(got[i].mel_db.size(), kBins * kFrames);
    for (std::size_t j = 0; j < kBins * kFrames; ++j) {
      const float e = expected[i * kBins * kFrames + j];
      if (e > -79.0f) worst = std::max(worst, std::abs(double(got[i].mel_db[j]) - e));
    }
    // power_to_db(ref=max): the maximum is exactly 0 dB, the floor exactly -80 dB.
    EXPECT_EQ(*std::max_element(got[i].mel_db.begin(), got[i].mel_db.end()), 0.0f);
    EXPECT_EQ(*std::min_element(got[i].mel_db.begin(), got[i].mel_db.end()), -80.0f);
  }
  std::printf("mel_db max |diff| above -79 dB: %.3g dB\n", worst);
  // float32 FFT vs numpy's float64 FFT cast to complex64: well below 1e-3 dB above the
  // floor region, where dB values of tiny powers are ill-conditioned.
  EXPECT_LE(worst, 1e-3);
}

struct Relative {
  double worst = 0;
  void add(double got, double expected) {
    worst = std::max(worst, std::abs(got - expected) / std::max(std::abs(expected), 1e-30));
  }
};

void expect_relative(const std::vector<float>& expected, const std::vector<cfma::dsp::NoteFeatures>& got,
                     std::size_t hand, double tolerance, const std::string& what) {
  ASSERT_EQ(expected.size(), kNotes * kFrames) << what;
  Relative r;
  for (std::size_t i = 0; i < kNotes; ++i)
    for (std::size_t t = 0; t < kFrames; ++t) r.add(got[i].hand[hand][t], expected[i * kFrames + t]);
  std::printf("%s max relative diff: %.3g\n", what.c_str(), r.worst);
  EXPECT_LE(r.worst, tolerance) << what;
}

// Spectral features: 1e-4 relative (README), i.e. float32 rounding of a float32 FFT on top
// of librosa's own float32 arithmetic.
TEST_P(ReferencePerPadMode, SpectralFeaturesMatchLibrosa) {
  const auto& paper = ref::computed(GetParam(), 22050);
  const auto& fixed = ref::computed(GetParam(), 16000);
  expect_relative(ref::dataset(path("rms")), fixed, ref::hand_index("rms"), 1e-4, path("rms"));
  expect_relative(ref::dataset(path("flatness")), fixed, ref::hand_index("flatness"), 1e-4, path("flatness"));
  for (const std::string name : {"centroid", "bandwidth", "rolloff"}) {
    expect_relative(ref::dataset(path(name)), paper, ref::hand_index(name), 1e-4, path(name));
    expect_relative(ref::dataset(path(name + "_sr16000")), fixed, ref::hand_index(name), 1e-4,
                    path(name + "_sr16000"));
  }
}

// ---- Features from mel_db -------------------------------------------------------------------

// The reference's own mel_db of note i, [bins][frames].
std::span<const float> reference_mel_db(const std::string& group, std::size_t i) {
  return std::span<const float>(ref::dataset(group + "mel_db")).subspan(i * kBins * kFrames, kBins * kFrames);
}

// Median and mean power over bins, computed from the reference mel_db: numpy's float32
// arithmetic reproduced (median = (a + b) / 2, mean = sequential float sum / 128), so exact.
TEST_P(ReferencePerPadMode, MedianAndMeanPowerFromReferenceMelDbAreExact) {
  const auto& medp = ref::dataset(path("medp"));
  const auto& meanp = ref::dataset(path("meanp"));
  std::vector<float> out(kFrames);
  for (std::size_t i = 0; i < kNotes; ++i) {
    const auto mel = reference_mel_db(ref::group(GetParam()), i);
    cfma::dsp::median_over_bins(mel, kBins, kFrames, out);
    for (std::size_t t = 0; t < kFrames; ++t) ASSERT_EQ(out[t], medp[i * kFrames + t]) << "note " << i << " frame " << t;
    cfma::dsp::mean_over_bins(mel, kBins, kFrames, out);
    for (std::size_t t = 0; t < kFrames; ++t) ASSERT_EQ(out[t], meanp[i * kFrames + t]) << "note " << i << " frame " << t;
  }
}

// Time to -80/-75/-70 dB from the reference mel_db: integer frame indices, exact.
TEST_P(ReferencePerPadMode, TimeToThresholdFromReferenceMelDbIsExact) {
  using cfma::dsp::DbCondition;
  const std::tuple<const char*, float, DbCondition> cases[] = {
      {"tp80", -80.0f, DbCondition::equal}, {"tp75", -75.0f, DbCondition::at_most}, {"tp70", -70.0f, DbCondition::at_most}};
  std::vector<float> out(kBins);
  for (const auto& [name, threshold, condition] : cases) {
    const auto& expected = ref::dataset(path(name));
    for (std::size_t i = 0; i < kNotes; ++i) {
      cfma::dsp::time_to_db(reference_mel_db(ref::group(GetParam()), i), kBins, kFrames, threshold, condition, out);
      for (std::size_t m = 0; m < kBins; ++m) ASSERT_EQ(out[m], expected[i * kBins + m]) << name << " note " << i << " bin " << m;
    }
  }
}

// Largest |value| of each note's row of a [24][width] reference dataset.
double row_scale(std::span<const float> row) {
  double s = 0;
  for (float v : row) s = std::max(s, double(std::abs(v)));
  return s;
}

// Wavelet means and the width-25 statistics from the reference mel_db: 1e-5 of the row's
// largest magnitude (README's CWT tolerance; sums of 128 products in double, stored float32).
TEST_P(ReferencePerPadMode, WaveletFeaturesFromReferenceMelDbMatchScipy) {
  const auto group = ref::group(GetParam());
  for (const int w : {1, 5, 10, 25}) {
    const auto weights = cfma::dsp::ricker_cwt_mean_weights(kFrames, w);
    const auto& expected = ref::dataset(path("wave" + std::to_string(w)));
    for (std::size_t i = 0; i < kNotes; ++i) {
      const auto mel = reference_mel_db(group, i);
      const std::span<const float> row(expected.data() + i * kBins, kBins);
      for (std::size_t m = 0; m < kBins; ++m) {
        double mean = 0;
        for (std::size_t t = 0; t < kFrames; ++t) mean += weights[t] * mel[m * kFrames + t];
        ASSERT_NEAR(mean, row[m], 1e-5 * row_scale(row)) << "wave" << w << " note " << i << " bin " << m;
      }
    }
  }
  const auto& stats = ref::dataset(path("add_wave25"));  // [6][24][128]
  ASSERT_EQ(stats.size(), 6 * kNotes * kBins);
  std::vector<double> cwt(kFrames);
  for (std::size_t i = 0; i < kNotes; ++i) {
    const auto mel = reference_mel_db(group, i);
    for (std::size_t m = 0; m < kBins; ++m) {
      const auto series = mel.subspan(m * kFrames, kFrames);
      cfma::dsp::cwt_ricker(std::vector<double>(series.begin(), series.end()), 25, cwt);
      const auto st = cfma::dsp::describe(cwt);
      const double got[6] = {st.median, st.sd, st.variance, st.kurtosis, st.q25, st.q75};
      for (std::size_t s = 0; s < 6; ++s) {
        const std::span<const float> row(stats.data() + (s * kNotes + i) * kBins, kBins);
        ASSERT_NEAR(got[s], row[m], 1e-5 * row_scale(row)) << "add_wave25 stat " << s << " note " << i << " bin " << m;
      }
    }
  }
}

// ---- End to end: audio -> extractor -> every mel_db-derived feature ----------------------------

struct Scaled {
  double worst = 0;  // max |diff| / scale
  void add(double got, double expected, double scale) { worst = std::max(worst, std::abs(got - expected) / scale); }
};

TEST_P(ReferencePerPadMode, ExtractorMelDbFeaturesMatchReference) {
  const auto& got = ref::computed(GetParam(), 16000);
  // Median/mean power: mean of values that agree to ~2e-5 dB (see MelDbMatchesLibrosa); 1e-4 dB.
  for (const auto& [name, dataset] : {std::pair{"median_power", "medp"}, std::pair{"mean_power", "meanp"}}) {
    const auto& expected = ref::dataset(path(dataset));
    double worst = 0;
    for (std::size_t i = 0; i < kNotes; ++i)
      for (std::size_t t = 0; t < kFrames; ++t)
        worst = std::max(worst, std::abs(double(got[i].hand[ref::hand_index(name)][t]) - expected[i * kFrames + t]));
    std::printf("%s max |diff|: %.3g dB\n", name, worst);
    EXPECT_LE(worst, 1e-4) << name;
  }
  // Time to threshold: exact frame indices.
  for (const auto& [name, dataset] : {std::pair{"time_to_80db", "tp80"}, std::pair{"time_to_75db", "tp75"},
                                      std::pair{"time_to_70db", "tp70"}}) {
    const auto& expected = ref::dataset(path(dataset));
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < kNotes; ++i)
      for (std::size_t m = 0; m < kBins; ++m)
        mismatches += got[i].hand[ref::hand_index(name)][m] != expected[i * kBins + m];
    EXPECT_EQ(mismatches, 0u) << name;
  }
  // Wavelet features: 1e-5 of the row's largest magnitude (README's CWT tolerance).
  for (const int w : {1, 5, 10, 25}) {
    const auto& expected = ref::dataset(path("wave" + std::to_string(w)));
    Scaled e;
    for (std::size_t i = 0; i < kNotes; ++i) {
      const std::span<const float> row(expected.data() + i * kBins, kBins);
      for (std::size_t m = 0; m < kBins; ++m)
        e.add(got[i].hand[ref::hand_index("wavelet_mean_" + std::to_string(w))][m], row[m], row_scale(row));
    }
    std::printf("wave%d max scaled diff: %.3g\n", w, e.worst);
    EXPECT_LE(e.worst, 1e-5) << "wave" << w;
  }
  const auto& stats = ref::dataset(path("add_wave25"));
  const auto k = ref::hand_index("wavelet_stats_25");
  for (std::size_t s = 0; s < 6; ++s) {
    Scaled e;
    for (std::size_t i = 0; i < kNotes; ++i) {
      const std::span<const float> row(stats.data() + (s * kNotes + i) * kBins, kBins);
      for (std::size_t m = 0; m < kBins; ++m) e.add(got[i].hand[k][s * kBins + m], row[m], row_scale(row));
    }
    std::printf("add_wave25[%zu] max scaled diff: %.3g\n", s, e.worst);
    EXPECT_LE(e.worst, 1e-5) << "add_wave25 statistic " << s;
  }
}

}  // namespace
