#include "cfma/store/feature_sets.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <nlohmann/json.hpp>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/manifest.hpp"
#include "cfma/core/random.hpp"
#include "cfma/store/h5.hpp"
#include "cfma/store/schema.hpp"

namespace cfma::store {

std::vector<std::filesystem::path> activation_files(const WorkPaths& paths) {
  std::vector<std::filesystem::path> files;
  if (!std::filesystem::is_directory(paths.activations_dir())) return files;
  const auto index_path = paths.activations_index();
  if (!std::filesystem::exists(index_path))
    throw StoreError(index_path.string() + ": missing: the extract stage has not finished (run extract)");
  const auto index = nlohmann::json::parse(read_file(index_path), nullptr, false);
  if (index.is_discarded() || !index.contains("runs") || !index["runs"].is_array())
    throw StoreError(index_path.string() + ": damaged (not the JSON extract writes): run extract again");
  for (const auto& run : index["runs"]) {
    if (!run.is_string()) throw StoreError(index_path.string() + ": damaged (a run name is not a string)");
    const auto file = paths.activations(run.get<std::string>());
    if (!std::filesystem::exists(file) || !read_manifest(file))
      throw StoreError(file.string() + ": listed by " + index_path.string() +
                       " but missing or without its manifest: run extract again");
    files.push_back(file);
  }
  std::sort(files.begin(), files.end());
  return files;
}

void write_activations_index(const WorkPaths& paths, const std::vector<std::string>& runs) {
  write_file_atomic(paths.activations_index(), nlohmann::json{{"runs", runs}}.dump(2) + "\n");
}

FeatureSet column_slice(const FeatureSet& set, std::int64_t begin, std::int64_t count) {
  if (begin < 0 || count < 0 || begin + count > set.columns())
    throw StoreError("feature set '" + set.name + "': columns [" + std::to_string(begin) + ", " +
                     std::to_string(begin + count) + ") out of range (" + std::to_string(set.columns()) + " columns)");
  FeatureSet slice = set;
  if (set.is_noise()) {
    slice.noise_columns = count;
    slice.noise_col_begin = set.noise_col_begin + begin;
    return slice;
  }
  slice.blocks.clear();
  std::int64_t offset = 0;  // first column of block b within the set
  for (const auto& b : set.blocks) {
    const std::int64_t lo = std::max(begin, offset), hi = std::min(begin + count, offset + b.col_count);
    if (lo < hi) slice.blocks.push_back({b.file, b.dataset, b.col_begin + (lo - offset), hi - lo});
    offset += b.col_count;
  }
  return slice;
}

std::int64_t FeatureSet::columns() const {
  if (is_noise()) return noise_columns;
  std::int64_t c = 0;
  for (const auto& b : blocks) c += b.col_count;
  return c;
}

namespace {

std::int64_t row_width(const Dims& d) {
  return std::accumulate(d.begin() + 1, d.end(), std::int64_t{1},
                         [](std::int64_t a, hsize_t b) { return a * static_cast<std::int64_t>(b); });
}

FeatureSet whole_dataset(const File& file, const std::string& dataset, std::string name,
                         std::string display) {
  const auto d = file.dims(dataset);
  if (d.size() < 2) throw StoreError(file.path().string() + ": dataset '" + dataset + "' is not [N, ...]");
  FeatureSet s;
  s.name = std::move(name);
  s.display_name = std::move(display);
  s.rows = static_cast<std::int64_t>(d[0]);
  s.blocks.push_back({file.path(), dataset, 0, row_width(d)});
  return s;
}

const std::vector<std::pair<std::string, std::string>>& spectral_names() {
  static const std::vector<std::pair<std::string, std::string>> names = {
      {"rms", "RMS"},
      {"centroid", "Centroid"},
      {"bandwidth", "Band Width"},
      {"flatness", "Spectral Flatness"},
      {"rolloff", "Rolloff"},
      {"median_power", "Median Power"},
      {"mean_power", "Mean Power"},
      {"time_to_80db", "Time to -80 dB"},
      {"time_to_75db", "Time to -75 dB"},
      {"time_to_70db", "Time to -70 dB"}};
  return names;
}

const std::vector<std::pair<std::string, std::string>>& stat_names() {
  static const std::vector<std::pair<std::string, std::string>> names = {
      {"median", "Median"}, {"sd", "SD"}, {"var", "Var."},
      {"kurtosis", "Kurtosis"}, {"q25", "25th Quant."}, {"q75", "75th Quant."}};
  return names;
}

}  // namespace

std::vector<std::string> hand_feature_set_names(std::vector<int> wavelet_widths, int stats_width) {
  std::vector<std::string> names;
  for (const auto& [key, display] : spectral_names()) names.push_back("hand/" + key);
  std::sort(wavelet_widths.begin(), wavelet_widths.end());
  for (const int w : wavelet_widths) names.push_back("hand/wavelet_mean_" + std::to_string(w));
  if (stats_width > 0) {
    const auto ws = std::to_string(stats_width);
    for (const auto& [stat, display] : stat_names()) names.push_back("hand/wavelet_" + stat + "_" + ws);
    names.push_back("group/wavelets_combined_" + ws);
    names.push_back("group/top_combined");
  }
  names.push_back("noise");
  return names;
}

std::vector<FeatureSet> hand_feature_sets(const std::filesystem::path& features_h5,
                                          std::uint64_t noise_seed) {
  const auto file = File::open_serial(features_h5);
  std::vector<FeatureSet> sets;
  for (const auto& [key, display] : spectral_names()) {
    const auto ds = schema::hand(key);
    if (!file.exists(ds)) throw StoreError(features_h5.string() + ": missing dataset '" + ds + "'");
    sets.push_back(whole_dataset(file, ds, "hand/" + key, display));
  }
  // Wavelet means, ascending width; the statistics width is the one with /hand/wavelet_stats_<w>.
  std::vector<int> widths;
  int stats_width = -1;
  for (int w = 1; w <= 4096; ++w) {
    if (file.exists(schema::hand("wavelet_mean_" + std::to_string(w)))) widths.push_back(w);
    if (file.exists(schema::hand("wavelet_stats_" + std::to_string(w)))) stats_width = w;
  }
  for (const int w : widths) {
    const auto key = "wavelet_mean_" + std::to_string(w);
    sets.push_back(whole_dataset(file, schema::hand(key), "hand/" + key, "Mean Wavelet-" + std::to_string(w)));
  }
  if (stats_width > 0) {
    const auto ws = std::to_string(stats_width);
    const auto stats_ds = schema::hand("wavelet_stats_" + ws);
    const auto combined = whole_dataset(file, stats_ds, "group/wavelets_combined_" + ws,
                                        "Wavelets Combined-" + ws);
    const std::int64_t per_stat = combined.columns() / static_cast<std::int64_t>(stat_names().size());
    for (std::size_t i = 0; i < stat_names().size(); ++i) {
      FeatureSet s;
      s.name = "hand/wavelet_" + stat_names()[i].first + "_" + ws;
      s.display_name = stat_names()[i].second + " Wavelet-" + ws;
      s.rows = combined.rows;
      s.blocks.push_back({features_h5, stats_ds, static_cast<std::int64_t>(i) * per_stat, per_stat});
      sets.push_back(std::move(s));
    }
    sets.push_back(combined);
    // Top Combined = hstack(Mean Power, T-70, Mean Wavelet-w, the six statistics) (spec 2.5).
    FeatureSet top;
    top.name = "group/top_combined";
    top.display_name = "Top Combined";
    top.rows = combined.rows;
    for (const auto& key : {std::string("mean_power"), std::string("time_to_70db"), "wavelet_mean_" + ws}) {
      const auto ds = schema::hand(key);
      if (file.exists(ds)) top.blocks.push_back({features_h5, ds, 0, row_width(file.dims(ds))});
    }
    top.blocks.push_back(combined.blocks.front());
    sets.push_back(std::move(top));
  }
  FeatureSet noise;
  noise.name = "noise";
  noise.display_name = "Random";
  noise.rows = sets.front().rows;
  noise.noise_columns = sets.front().columns();
  noise.noise_seed = noise_seed;
  sets.push_back(std::move(noise));
  return sets;
}

FeatureSet input_feature_set(const std::filesystem::path& features_h5) {
  const auto file = File::open_serial(features_h5);
  return whole_dataset(file, schema::mel_db, "input", "Input (mel dB)");
}

std::vector<FeatureSet> activation_feature_sets(const std::filesystem::path& activations_h5) {
  const auto file = File::open_serial(activations_h5);
  const std::string run = file.attr_string("run");
  std::vector<FeatureSet> sets;
  for (const char* id : {"conv1", "pool1", "conv2", "pool2", "conv3", "fc1"}) {
    const auto ds = schema::layer(id);
    if (file.exists(ds)) sets.push_back(whole_dataset(file, ds, run + "/" + id, run + " " + id));
  }
  if (sets.empty()) throw StoreError(activations_h5.string() + ": no layers under /layers");
  return sets;
}

const FeatureSet& find_feature_set(const std::vector<FeatureSet>& sets, const std::string& name) {
  for (const auto& s : sets)
    if (s.name == name) return s;
  std::string known;
  for (std::size_t i = 0; i < sets.size() && i < 8; ++i) known += (i ? ", " : "") + sets[i].name;
  throw StoreError("unknown feature set '" + name + "' (known: " + known +
                   (sets.size() > 8 ? ", ..." : "") + ")");
}

std::string features_key(const std::filesystem::path& features_h5) {
  return File::open_serial(features_h5).attr_string("config_key");
}

double noise_value(std::uint64_t seed, std::int64_t row, std::int64_t col) {
  // splitmix64 of (seed, row, col) -> two uniforms -> Box-Muller.
  const std::uint64_t h = splitmix64(splitmix64(splitmix64(seed) ^ static_cast<std::uint64_t>(row)) ^
                                     (static_cast<std::uint64_t>(col) << 1));
  const double u1 = (static_cast<double>(h >> 11) + 0.5) / 9007199254740992.0;
  const double u2 = (static_cast<double>(splitmix64(h) >> 11) + 0.5) / 9007199254740992.0;
  // Rounded to float32 like every stored feature: the noise baseline then has the precision
  // of the sets it is compared with, and its cross products are exact in double, so the
  // similarity sums do not depend on the BLAS kernel's summation order (without the rounding
  // its CKA values varied in the last bits from run to run).
  return static_cast<double>(static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2)));
}

struct FeatureReader::Impl {
  std::map<std::filesystem::path, File> files;
  std::vector<float> buffer;
};

FeatureReader::FeatureReader(FeatureSet set) : set_(std::move(set)), impl_(std::make_unique<Impl>()) {
  for (const auto& b : set_.blocks)
    if (!impl_->files.count(b.file)) impl_->files.emplace(b.file, File::open_serial(b.file));
}
FeatureReader::~FeatureReader() = default;
FeatureReader::FeatureReader(FeatureReader&&) noexcept = default;

void FeatureReader::read(std::int64_t begin, std::int64_t count, std::span<double> out) {
  const std::int64_t cols = set_.columns();
  if (static_cast<std::int64_t>(out.size()) < count * cols)
    throw StoreError("feature set '" + set_.name + "': output buffer too small");
  if (begin < 0 || begin + count > set_.rows)
    throw StoreError("feature set '" + set_.name + "': rows [" + std::to_string(begin) + ", " +
                     std::to_string(begin + count) + ") out of range (" + std::to_string(set_.rows) + " rows)");
  if (set_.is_noise()) {
    for (std::int64_t r = 0; r < count; ++r)
      for (std::int64_t c = 0; c < cols; ++c)
        out[static_cast<std::size_t>(r * cols + c)] =
            noise_value(set_.noise_seed, begin + r, set_.noise_col_begin + c);
    return;
  }
  std::int64_t col_offset = 0;
  for (const auto& b : set_.blocks) {
    auto& file = impl_->files.at(b.file);
    const std::int64_t width = row_width(file.dims(b.dataset));
    impl_->buffer.resize(static_cast<std::size_t>(count * width));
    file.read_rows<float>(b.dataset, static_cast<hsize_t>(begin), static_cast<hsize_t>(count),
                          impl_->buffer.data());
    for (std::int64_t r = 0; r < count; ++r) {
      const float* src = impl_->buffer.data() + r * width + b.col_begin;
      double* dst = out.data() + r * cols + col_offset;
      for (std::int64_t c = 0; c < b.col_count; ++c) {
        if (!std::isfinite(src[c]))
          throw StoreError(b.file.string() + ": " + b.dataset + ": non-finite value at row " +
                           std::to_string(begin + r) + " (feature set '" + set_.name + "')");
        dst[c] = src[c];
      }
    }
    col_offset += b.col_count;
  }
}

void FeatureReader::read_rows(std::span<const std::int64_t> sorted_rows, std::span<double> out) {
  const std::int64_t cols = set_.columns();
  // Read covering ranges of at most `window` rows, keep the listed ones.
  constexpr std::int64_t window = 256;
  std::vector<double> scratch;
  std::size_t i = 0;
  while (i < sorted_rows.size()) {
    const std::int64_t first = sorted_rows[i];
    std::size_t j = i;
    while (j < sorted_rows.size() && sorted_rows[j] < first + window) {
      if (j > i && sorted_rows[j] <= sorted_rows[j - 1])
        throw StoreError("feature set '" + set_.name + "': row list not strictly ascending");
      ++j;
    }
    const std::int64_t last = sorted_rows[j - 1];
    const std::int64_t span_rows = last - first + 1;
    if (static_cast<std::int64_t>(j - i) == span_rows) {
      read(first, span_rows, out.subspan(i * static_cast<std::size_t>(cols)));
    } else {
      scratch.resize(static_cast<std::size_t>(span_rows * cols));
      read(first, span_rows, scratch);
      for (std::size_t k = i; k < j; ++k)
        std::copy_n(scratch.data() + (sorted_rows[k] - first) * cols, cols,
                    out.data() + static_cast<std::int64_t>(k) * cols);
    }
    i = j;
  }
}

}  // namespace cfma::store
