// The DSP building blocks one by one: config parsing and validation, padding, window, mel
// filterbank (against librosa), power_to_db, Ricker wavelet and CWT (against scipy), the
// statistics, and the extractor's contract (shapes, registry, wrong input).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "cfma/core/config.hpp"
#include "cfma/core/error.hpp"
#include "cfma/dsp/mel.hpp"
#include "cfma/dsp/spectral.hpp"
#include "cfma/dsp/stft.hpp"
#include "cfma/dsp/wavelet.hpp"
#include "tests/dsp/reference_data.hpp"

namespace {

namespace dsp = cfma::dsp;
namespace ref = cfma::test::dsp_reference;

// ---- [features] config --------------------------------------------------------------------

TEST(FeaturesConfig, DefaultsAreThePaperParameters) {
  const auto doc = cfma::ConfigDoc::from_string("");
  const auto c = dsp::parse_features_config(doc);
  EXPECT_EQ(c.sample_rate, 16000);
  EXPECT_EQ(c.n_samples, 64000);
  EXPECT_EQ(c.n_fft, 2048);
  EXPECT_EQ(c.hop_length, 502);
  EXPECT_EQ(c.n_mels, 128);
  EXPECT_EQ(c.fmax, 8000.0);
  EXPECT_EQ(c.pad_mode, dsp::PadMode::reflect);
  EXPECT_EQ(c.spectral_sr, 16000);
  EXPECT_EQ(c.wavelet_widths, (std::vector<int>{1, 5, 10, 25}));
  EXPECT_EQ(c.stats_width, 25);
  EXPECT_EQ(dsp::frames(c), 128);
  const auto j = dsp::to_json(c);
  EXPECT_EQ(j.at("pad_mode"), "reflect");
  EXPECT_EQ(j.at("hop_length"), 502);
  EXPECT_EQ(j.at("wavelet_widths").size(), 4u);
}

TEST(FeaturesConfig, ParsesEveryKey) {
  const auto doc = cfma::ConfigDoc::from_string(
      "[features]\nsample_rate = 22050\nn_samples = 44100\nn_fft = 1024\nhop_length = 256\n"
      "n_mels = 64\nfmin = 20.0\nfmax = 11025.0\npad_mode = 'constant'\nspectral_sr = 22050\n"
      "top_db = 60.0\namin = 1e-8\nroll_percent = 0.9\nwavelet_widths = [2, 4]\nstats_width = 4\n");
  const auto c = dsp::parse_features_config(doc);
  doc.check_unknown_keys();
  EXPECT_EQ(c.sample_rate, 22050);
  EXPECT_EQ(c.n_fft, 1024);
  EXPECT_EQ(c.pad_mode, dsp::PadMode::constant);
  EXPECT_EQ(c.top_db, 60.0);
  EXPECT_EQ(c.amin, 1e-8);
  EXPECT_EQ(c.roll_percent, 0.9);
  EXPECT_EQ(c.wavelet_widths, (std::vector<int>{2, 4}));
  EXPECT_EQ(dsp::frames(c), 1 + 44100 / 256);
  // Registry follows the config: 10 fixed units, one mean per width, one statistics block.
  const auto specs = dsp::hand_feature_specs(c);
  ASSERT_EQ(specs.size(), 13u);
  EXPECT_EQ(specs[0].shape, (std::vector<std::size_t>{173}));       // per frame
  EXPECT_EQ(specs[7].shape, (std::vector<std::size_t>{64}));        // per mel bin
  EXPECT_EQ(specs[10].name, "wavelet_mean_2");
  EXPECT_EQ(specs[12].name, "wavelet_stats_4");
  EXPECT_EQ(specs[12].shape, (std::vector<std::size_t>{6, 64}));
}

TEST(FeaturesConfig, RejectsBadValues) {
  // Out-of-range single keys: the typed getters (ConfigError naming the key).
  for (const std::string bad : {"n_fft = 0", "hop_length = -1", "pad_mode = 'wrap'", "amin = 0.0",
                                "roll_percent = 1.5", "wavelet_widths = [0]"})
    EXPECT_THROW(dsp::parse_features_config(cfma::ConfigDoc::from_string("[features]\n" + bad)), cfma::ConfigError)
        << bad;
  // Inconsistent combinations: validate() (DspError), reported by the parser as ConfigError.
  for (const std::string bad : {"fmax = 9000.0", "n_fft = 2047", "n_samples = 1000", "fmin = 8000.0",
                                "wavelet_widths = [5, 5]"})
    EXPECT_THROW(dsp::parse_features_config(cfma::ConfigDoc::from_string("[features]\n" + bad)), cfma::ConfigError)
        << bad;
  dsp::FeaturesConfig c;
  c.fmax = 8001;
  EXPECT_THROW(dsp::validate(c), cfma::DspError);
  EXPECT_THROW(dsp::FeatureExtractor{c}, cfma::DspError);
  c = {};
  c.hop_length = 0;
  EXPECT_THROW(dsp::hand_feature_specs(c), cfma::DspError);
  c = {};
  c.stats_width = 0;
  EXPECT_THROW(dsp::FeatureExtractor{c}, cfma::DspError);
}

// ---- framing ---------------------------------------------------------------------------------

TEST(Stft, PaddingFollowsNumpyPad) {
  const std::vector<float> y = {1, 2, 3, 4, 5};
  std::vector<float> out(9);
  dsp::pad_centered(y, 2, dsp::PadMode::reflect, out);  // np.pad([1..5], 2, 'reflect')
  EXPECT_EQ(out, (std::vector<float>{3, 2, 1, 2, 3, 4, 5, 4, 3}));
  dsp::pad_centered(y, 2, dsp::PadMode::constant, out);
  EXPECT_EQ(out, (std::vector<float>{0, 0, 1, 2, 3, 4, 5, 0, 0}));
  std::vector<float> too_long(15);
  EXPECT_THROW(dsp::pad_centered(y, 5, dsp::PadMode::reflect, too_long), cfma::DspError);
  EXPECT_EQ(dsp::frame_count(64000, 502), 128);
}

TEST(Stft, PeriodicHannAndPureTone) {
  const auto w = dsp::hann_window(8);  // scipy.signal.get_window('hann', 8)
  const double expected[8] = {0, 0.14644660940672624, 0.5, 0.8535533905932737, 1, 0.8535533905932737, 0.5,
                              0.14644660940672624};
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(w[static_cast<std::size_t>(i)], expected[i], 1e-15);
  // A sinusoid exactly on bin 64 of a 1024-point frame: the Hann window spreads it over bins
  // 63..65 with amplitudes 1/4, 1/2, 1/4 of N/2 (power 1/16, 1/4, 1/16 of (N/2)^2).
  const int n = 1024;
  std::vector<float> y(4096);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<float>(std::cos(2 * M_PI * 64 * double(i) / n));
  const auto power = dsp::stft_power(y, n, 256, dsp::PadMode::reflect);
  const std::size_t bins = n / 2 + 1, t = 8;  // a frame well inside the signal
  const double full = (n / 2.0) * (n / 2.0);
  EXPECT_NEAR(power[t * bins + 64] / full, 0.25, 1e-6);
  EXPECT_NEAR(power[t * bins + 63] / full, 1.0 / 16, 1e-6);
  EXPECT_NEAR(power[t * bins + 65] / full, 1.0 / 16, 1e-6);
  EXPECT_LT(power[t * bins + 70] / full, 1e-10);
}

// ---- mel -------------------------------------------------------------------------------------

// Against librosa.filters.mel(sr=16000, n_fft=2048, n_mels=128, fmax=8000): computed in double
// and rounded to float32 as librosa does; allow 1 float32 ulp (numpy's log/exp may round the
// mel points differently from glibc in the last bit).
TEST(Mel, FilterbankMatchesLibrosa) {
  const auto expected = ref::h5().read_all<float>("mel_filterbank");
  const auto fb = dsp::mel_filterbank(16000, 2048, 128, 0.0, 8000.0);
  ASSERT_EQ(fb.weights.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    ASSERT_NEAR(fb.weights[i], expected[i], 1.2e-7f * std::abs(expected[i])) << "entry " << i;
  // The bands cover exactly the nonzero weights.
  for (int m = 0; m < 128; ++m) {
    ASSERT_LT(fb.band_begin[m], fb.band_end[m]);
    for (int k = 0; k < fb.bins; ++k)
      if (k < fb.band_begin[m] || k >= fb.band_end[m]) {
        ASSERT_EQ(fb.weight(m, k), 0.0f);
      }
  }
  EXPECT_NEAR(dsp::mel_to_hz(dsp::hz_to_mel(4321.0)), 4321.0, 1e-9);
  EXPECT_DOUBLE_EQ(dsp::hz_to_mel(1000.0), 15.0);
  EXPECT_THROW(dsp::mel_filterbank(16000, 2048, 128, 0.0, 9000.0), cfma::DspError);
}

TEST(Mel, PowerToDbHasExactMaximumAndFloor) {
  const std::vector<float> power = {1.0f, 0.5f, 1e-3f, 1e-12f, 0.0f, 2.0f};
  std::vector<float> db(power.size());
  dsp::power_to_db(power, db, 1e-10, 80.0);
  EXPECT_EQ(db[5], 0.0f);
  EXPECT_NEAR(db[0], -10 * std::log10(2.0), 1e-5);
  EXPECT_NEAR(db[2], 10 * std::log10(1e-3 / 2.0), 1e-4);
  EXPECT_EQ(db[3], -80.0f);  // 10 log10(1e-10 / 2) = -103 dB, floored
  EXPECT_EQ(db[4], -80.0f);
  std::vector<float> silent(4, 0.0f), silent_db(4);
  dsp::power_to_db(silent, silent_db, 1e-10, 80.0);  // librosa: all amin -> all 0 dB
  EXPECT_EQ(silent_db, std::vector<float>(4, 0.0f));
  EXPECT_THROW(dsp::power_to_db(power, db, 0.0, 80.0), cfma::DspError);
}

// ---- spectral edge cases ---------------------------------------------------------------------

TEST(Spectral, SilentFrameAndSumOfLogs) {
  const std::vector<float> zeros(1025, 0.0f);
  const auto freqs = dsp::fft_frequencies(16000, 2048);
  EXPECT_EQ(dsp::spectral_centroid(zeros, freqs), 0.0);
  EXPECT_EQ(dsp::spectral_bandwidth(zeros, freqs, 0.0), 0.0);
  EXPECT_EQ(dsp::spectral_rolloff(zeros, freqs, 0.85), 0.0);
  EXPECT_NEAR(dsp::spectral_flatness(zeros, 1e-10), 1.0, 1e-12);  // all bins at amin
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-30.0f, 30.0f);
  std::vector<float> x(1000);
  double expected = 0;
  for (float& v : x) {
    v = std::exp(u(rng));
    expected += std::log(double(v));
  }
  EXPECT_NEAR(dsp::sum_of_logs(x, 1e-30f), expected, 1e-10);
  EXPECT_NEAR(dsp::sum_of_logs(x, 1.0f), [&] {
    double s = 0;
    for (float v : x) s += std::log(std::max(double(v), 1.0));
    return s;
  }(), 1e-10);
  EXPECT_EQ(dsp::spectral_centroid(std::vector<float>(3, 1.0f), std::vector<double>{0, 1, 2}), 1.0);
  EXPECT_THROW(dsp::spectral_centroid(zeros, std::vector<double>(3)), cfma::DspError);
}

// ---- Ricker wavelet and CWT (scipy 1.10.1, ricker_cwt group) ------------------------------------

// The wavelet and the transform of the reference signal: 1e-12 of the largest magnitude
// (pure double arithmetic; scipy may convolve by FFT, which rounds differently).
TEST(Wavelet, RickerAndCwtMatchScipy) {
  const auto h5 = ref::h5();
  const auto input = h5.read_all<double>("ricker_cwt/input");
  ASSERT_EQ(input.size(), 128u);
  // RickerCwt (the extractor's FFT path) takes float32 series, as mel_db is: it is checked
  // against the direct transform of the same float-rounded signal.
  const std::vector<float> signal(input.begin(), input.end());
  const std::vector<double> rounded(signal.begin(), signal.end());
  for (const int w : {1, 5, 10, 25}) {
    const auto points = h5.read_all<double>("ricker_cwt/ricker_points128_a" + std::to_string(w));
    const auto wavelet = dsp::ricker(dsp::ricker_points(128, w), w);
    ASSERT_EQ(wavelet.size(), points.size());
    for (std::size_t j = 0; j < points.size(); ++j) ASSERT_NEAR(wavelet[j], points[j], 1e-15) << "a" << w;

    const auto expected = h5.read_all<double>("ricker_cwt/width" + std::to_string(w));
    double scale = 0;
    for (double v : expected) scale = std::max(scale, std::abs(v));
    std::vector<double> got(128), direct(128);
    dsp::cwt_ricker(input, w, got);
    for (std::size_t i = 0; i < 128; ++i) ASSERT_NEAR(got[i], expected[i], 1e-12 * scale) << "width " << w << " i " << i;
    dsp::cwt_ricker(rounded, w, direct);
    dsp::RickerCwt fft_cwt(128, w);
    fft_cwt.transform(signal, got);
    for (std::size_t i = 0; i < 128; ++i) ASSERT_NEAR(got[i], direct[i], 1e-12 * scale) << "fft width " << w;
    // The mean weights give the transform's mean.
    const auto weights = dsp::ricker_cwt_mean_weights(128, w);
    const double mean = std::accumulate(expected.begin(), expected.end(), 0.0) / 128;
    EXPECT_NEAR(std::inner_product(weights.begin(), weights.end(), input.begin(), 0.0), mean, 1e-12 * scale);
  }
  // Several series at once, and an odd length (M = n = 127: mode 'same' offset (M-1)/2).
  dsp::RickerCwt batch25(128, 25);
  std::vector<float> two(signal.begin(), signal.end());
  two.insert(two.end(), signal.rbegin(), signal.rend());
  std::vector<double> out(256), direct(128);
  batch25.transform(two, out);
  dsp::cwt_ricker(std::vector<double>(rounded.rbegin(), rounded.rend()), 25, direct);
  for (std::size_t i = 0; i < 128; ++i) EXPECT_NEAR(out[128 + i], direct[i], 1e-9);
  const std::vector<float> odd(signal.begin(), signal.end() - 1);
  std::vector<double> odd_direct(127), odd_fft(127);
  dsp::cwt_ricker(std::vector<double>(rounded.begin(), rounded.end() - 1), 25, odd_direct);
  dsp::RickerCwt odd_cwt(127, 25);
  odd_cwt.transform(odd, odd_fft);
  for (std::size_t i = 0; i < 127; ++i) EXPECT_NEAR(odd_fft[i], odd_direct[i], 1e-9);
  EXPECT_THROW(dsp::ricker(0, 1.0), cfma::DspError);
  EXPECT_THROW(batch25.transform(odd, odd_fft), cfma::DspError);
}

// describe() against a direct numpy-style computation on a sorted copy, for lengths 1..40 and
// 128 (the order-statistics shortcuts must give numpy's ranks for every n).
TEST(Wavelet, DescribeMatchesSortedDefinition) {
  std::mt19937 rng(7);
  std::normal_distribution<double> g(0.0, 3.0);
  std::vector<std::size_t> lengths(40);
  std::iota(lengths.begin(), lengths.end(), 1);
  lengths.push_back(128);
  for (const std::size_t n : lengths) {
    std::vector<double> v(n);
    for (double& x : v) x = g(rng);
    auto sorted = v;
    std::sort(sorted.begin(), sorted.end());
    const auto quantile = [&](double q) {  // numpy 'linear'
      const double idx = (double(n) - 1) * q;
      const auto lo = static_cast<std::size_t>(idx);
      const auto hi = std::min(lo + 1, n - 1);
      const double t = idx - double(lo);
      return sorted[lo] + (sorted[hi] - sorted[lo]) * t;
    };
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / double(n);
    double m2 = 0, m4 = 0;
    for (double x : v) {
      m2 += (x - mean) * (x - mean);
      m4 += std::pow(x - mean, 4);
    }
    m2 /= double(n);
    m4 /= double(n);
    const auto st = dsp::describe(v);
    EXPECT_DOUBLE_EQ(st.median, (sorted[(n - 1) / 2] + sorted[n / 2]) / 2) << n;
    EXPECT_NEAR(st.q25, quantile(0.25), 1e-12) << n;
    EXPECT_NEAR(st.q75, quantile(0.75), 1e-12) << n;
    EXPECT_NEAR(st.variance, m2, 1e-12 * m2) << n;
    EXPECT_NEAR(st.sd, std::sqrt(m2), 1e-12) << n;
    if (n > 1) {
      EXPECT_NEAR(st.kurtosis, m4 / (m2 * m2) - 3, 1e-10) << n;
    }
  }
  std::vector<double> constant(10, 2.5);
  EXPECT_TRUE(std::isnan(dsp::describe(constant).kurtosis));  // scipy: NaN for zero variance
  std::vector<double> empty;
  EXPECT_THROW(dsp::describe(empty), cfma::DspError);
}

// ---- the extractor's contract ----------------------------------------------------------------

TEST(FeatureExtractor, RegistryNamesShapesAndInputChecks) {
  dsp::FeatureExtractor extractor(dsp::FeaturesConfig{});
  const auto& specs = extractor.specs();
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"rms", "RMS"}, {"centroid", "Centroid"}, {"bandwidth", "Band Width"}, {"flatness", "Spectral Flatness"},
      {"rolloff", "Rolloff"}, {"median_power", "Median Power"}, {"mean_power", "Mean Power"},
      {"time_to_80db", "Time to -80 dB"}, {"time_to_75db", "Time to -75 dB"}, {"time_to_70db", "Time to -70 dB"},
      {"wavelet_mean_1", "Mean Wavelet-1"}, {"wavelet_mean_5", "Mean Wavelet-5"},
      {"wavelet_mean_10", "Mean Wavelet-10"}, {"wavelet_mean_25", "Mean Wavelet-25"},
      {"wavelet_stats_25", "Wavelets Combined-25"}};
  ASSERT_EQ(specs.size(), expected.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(specs[i].name, expected[i].first);
    EXPECT_EQ(specs[i].display_name, expected[i].second);
    EXPECT_EQ(specs[i].size(), i + 1 == specs.size() ? 6u * 128 : 128u);
  }
  dsp::NoteFeatures out;
  EXPECT_THROW(extractor.compute(std::vector<float>(63999), out), cfma::DspError);
  EXPECT_THROW(extractor.compute(std::vector<float>(64001), out), cfma::DspError);
  // A silent note: mel power 0 everywhere, so 0 dB everywhere (librosa's ref = amin); each mel
  // bin's series is all zero, its transform too, and scipy's kurtosis of that is NaN.
  extractor.compute(std::vector<float>(64000, 0.0f), out);
  ASSERT_EQ(out.mel_db.size(), 128u * 128);
  EXPECT_TRUE(std::all_of(out.mel_db.begin(), out.mel_db.end(), [](float v) { return v == 0.0f; }));
  EXPECT_TRUE(std::isnan(out.hand.back()[3 * 128]));
  EXPECT_EQ(out.hand[7][0], 128.0f);  // never reaches -80 dB
  // Reusing the output and the extractor gives the same result (no state between notes).
  const auto& note = ref::notes()[5];
  extractor.compute(note, out);
  const auto first = out;
  extractor.compute(ref::notes()[6], out);
  extractor.compute(note, out);
  EXPECT_EQ(out.mel_db, first.mel_db);
  EXPECT_EQ(out.hand, first.hand);
}

}  // namespace
