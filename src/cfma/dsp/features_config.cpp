#include "cfma/dsp/features_config.hpp"

#include <algorithm>
#include <string>

#include "cfma/core/error.hpp"

namespace cfma::dsp {

namespace {

[[noreturn]] void invalid(const std::string& problem) {
  throw DspError("features: " + problem);
}

}  // namespace

void validate(const FeaturesConfig& c) {
  if (c.sample_rate <= 0) invalid("sample_rate must be > 0, got " + std::to_string(c.sample_rate));
  if (c.n_fft < 2 || c.n_fft % 2 != 0)
    invalid("n_fft must be even and >= 2, got " + std::to_string(c.n_fft));
  if (c.hop_length <= 0) invalid("hop_length must be > 0, got " + std::to_string(c.hop_length));
  // Centred frames of n_fft samples need a signal at least one frame long (librosa warns
  // otherwise, and reflect padding needs n_samples > n_fft / 2).
  if (c.n_samples < c.n_fft)
    invalid("n_samples (" + std::to_string(c.n_samples) + ") must be >= n_fft (" +
            std::to_string(c.n_fft) + ")");
  if (c.hop_length > c.n_samples)
    invalid("hop_length (" + std::to_string(c.hop_length) + ") must be <= n_samples (" + std::to_string(c.n_samples) + ")");
  if (c.n_mels <= 0) invalid("n_mels must be > 0, got " + std::to_string(c.n_mels));
  if (c.fmin < 0.0) invalid("fmin must be >= 0, got " + std::to_string(c.fmin));
  if (c.fmax <= c.fmin)
    invalid("fmax (" + std::to_string(c.fmax) + ") must be > fmin (" + std::to_string(c.fmin) + ")");
  if (c.fmax > c.sample_rate / 2.0)
    invalid("fmax (" + std::to_string(c.fmax) + ") must be <= sample_rate / 2 (" +
            std::to_string(c.sample_rate / 2.0) + ")");
  if (c.spectral_sr <= 0) invalid("spectral_sr must be > 0, got " + std::to_string(c.spectral_sr));
  if (!(c.top_db >= 0.0)) invalid("top_db must be >= 0, got " + std::to_string(c.top_db));
  if (!(c.amin > 0.0)) invalid("amin must be > 0, got " + std::to_string(c.amin));
  if (!(c.roll_percent > 0.0 && c.roll_percent < 1.0))
    invalid("roll_percent must be in (0, 1), got " + std::to_string(c.roll_percent));
  if (c.wavelet_widths.empty()) invalid("wavelet_widths must not be empty");
  for (int w : c.wavelet_widths)
    if (w <= 0) invalid("wavelet_widths must be > 0, got " + std::to_string(w));
  auto sorted = c.wavelet_widths;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    invalid("wavelet_widths must not repeat a width");
  if (c.stats_width <= 0) invalid("stats_width must be > 0, got " + std::to_string(c.stats_width));
}

FeaturesConfig parse_features_config(const cfma::ConfigDoc& doc) {
  const auto s = doc.section("features");
  FeaturesConfig c;
  const auto get_int = [&](const char* key, int fallback, Range range) {
    return static_cast<int>(s.get_int(key, fallback, range));
  };
  c.sample_rate = get_int("sample_rate", c.sample_rate, between(1, 1'000'000));
  c.n_samples = get_int("n_samples", c.n_samples, between(1, 1'000'000'000));
  c.n_fft = get_int("n_fft", c.n_fft, between(2, 1 << 20));
  c.hop_length = get_int("hop_length", c.hop_length, between(1, 1 << 20));
  c.n_mels = get_int("n_mels", c.n_mels, between(1, 4096));
  c.fmin = s.get_double("fmin", c.fmin, at_least(0.0));
  c.fmax = s.get_double("fmax", c.fmax, greater_than(0.0));
  c.pad_mode = s.get_choice("pad_mode", "reflect", {"reflect", "constant"}) == "reflect"
                   ? PadMode::reflect
                   : PadMode::constant;
  c.spectral_sr = get_int("spectral_sr", c.spectral_sr, between(1, 1'000'000));
  c.top_db = s.get_double("top_db", c.top_db, at_least(0.0));
  c.amin = s.get_double("amin", c.amin, greater_than(0.0));
  c.roll_percent = s.get_double("roll_percent", c.roll_percent, {0.0, 1.0, true});
  std::vector<std::int64_t> widths(c.wavelet_widths.begin(), c.wavelet_widths.end());
  widths = s.get_int_list("wavelet_widths", widths, between(1, 1 << 20));
  c.wavelet_widths.assign(widths.begin(), widths.end());
  c.stats_width = get_int("stats_width", c.stats_width, between(1, 1 << 20));
  try {
    validate(c);
  } catch (const DspError& e) {
    // A constraint between keys: reported at the section's first key in the file.
    const auto keys = s.keys();
    if (keys.empty()) throw ConfigError(doc.file().string() + ": [" + s.path() + "] " + e.what());
    s.fail(keys.front(), std::string("[features] ") + e.what());
  }
  return c;
}

nlohmann::json to_json(const FeaturesConfig& c) {
  return {{"sample_rate", c.sample_rate},   {"n_samples", c.n_samples},
          {"n_fft", c.n_fft},               {"hop_length", c.hop_length},
          {"n_mels", c.n_mels},             {"fmin", c.fmin},
          {"fmax", c.fmax},                 {"pad_mode", to_string(c.pad_mode)},
          {"spectral_sr", c.spectral_sr},   {"top_db", c.top_db},
          {"amin", c.amin},                 {"roll_percent", c.roll_percent},
          {"wavelet_widths", c.wavelet_widths}, {"stats_width", c.stats_width}};
}

int frames(const FeaturesConfig& c) { return 1 + c.n_samples / c.hop_length; }

const char* to_string(PadMode mode) { return mode == PadMode::reflect ? "reflect" : "constant"; }

}  // namespace cfma::dsp
