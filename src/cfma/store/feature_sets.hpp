#pragma once
// Feature sets: the matrices probes and similarity work on. A set is a column-wise
// concatenation of blocks, each a column range of a 2-D (or flattened N-D) float32 dataset whose
// rows follow features.h5's row order; or the seeded Gaussian-noise baseline. Rows are read in
// chunks (never a whole set in memory), converted to double.
//
// Names: "input" (/mel_db), "hand/<feature>" (each /hand dataset; wavelet_stats_25 also split
// into its six statistics "hand/wavelet_<stat>_25"), "group/wavelets_combined_25",
// "group/top_combined", "noise", and "<run>/<layer>" for activations.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cfma/core/paths.hpp"

namespace cfma::store {

class File;

// The activations files of a workdir, as listed by activations/index.json (the last finished
// extract stage), sorted by name; none when there is no activations/ directory (a study
// without extraction). Throws StoreError when activations/ exists without the index (an
// extract stage that failed or stopped), or when a listed file or its manifest is missing.
std::vector<std::filesystem::path> activation_files(const WorkPaths& paths);
// Writes activations/index.json for `runs` (each activations/<run>.h5 with its manifest).
void write_activations_index(const WorkPaths& paths, const std::vector<std::string>& runs);

struct FeatureBlock {
  std::filesystem::path file;
  std::string dataset;
  std::int64_t col_begin = 0;  // within the flattened row
  std::int64_t col_count = 0;
};

struct FeatureSet {
  std::string name;
  std::string display_name;
  std::vector<FeatureBlock> blocks;  // empty for noise
  std::int64_t rows = 0;
  std::int64_t noise_columns = 0;    // > 0: the Gaussian-noise baseline
  std::uint64_t noise_seed = 0;
  std::int64_t noise_col_begin = 0;  // noise columns of a column slice start here
  std::int64_t columns() const;
  bool is_noise() const { return noise_columns > 0; }
};

// The 23 hand-crafted sets of reference-spec 2.5, in its order (0 RMS ... 21 Top Combined,
// 22 Random), as present in `features_h5`. `noise_seed` seeds set 22 (reference Q20 fix).
std::vector<FeatureSet> hand_feature_sets(const std::filesystem::path& features_h5,
                                          std::uint64_t noise_seed);
// The names hand_feature_sets gives the sets of a features.h5 written with these
// [features] wavelet_widths and stats_width, in the same order, without opening a file (for
// config checks before preprocess has run).
std::vector<std::string> hand_feature_set_names(std::vector<int> wavelet_widths, int stats_width);
// The network input: mel_db flattened (n_mels * frames columns).
FeatureSet input_feature_set(const std::filesystem::path& features_h5);
// Every /layers/<id> of an activations file, named "<run>/<id>" (run = file's "run" attribute).
std::vector<FeatureSet> activation_feature_sets(const std::filesystem::path& activations_h5);
// Columns [begin, begin + count) of `set` as a set of their own (same name and rows): a rank
// that needs only its column block reads and converts only those values.
FeatureSet column_slice(const FeatureSet& set, std::int64_t begin, std::int64_t count);
// Finds a set by name in `sets` or throws StoreError listing a few valid names.
const FeatureSet& find_feature_set(const std::vector<FeatureSet>& sets, const std::string& name);

// Reads rows of a set; keeps its files open. Not thread-safe; one reader per thread.
class FeatureReader {
 public:
  explicit FeatureReader(FeatureSet set);
  ~FeatureReader();
  FeatureReader(FeatureReader&&) noexcept;
  const FeatureSet& set() const { return set_; }
  // Rows [begin, begin+count) -> out (row-major, count x columns). NaN/Inf -> StoreError
  // naming the set, dataset and row.
  void read(std::int64_t begin, std::int64_t count, std::span<double> out);
  // The rows listed in `sorted_rows` (ascending) -> out, reading covering ranges in chunks.
  void read_rows(std::span<const std::int64_t> sorted_rows, std::span<double> out);

 private:
  struct Impl;
  FeatureSet set_;
  std::unique_ptr<Impl> impl_;
};

// The identity of a features.h5's rows: its "config_key" attribute (hash of the preprocess
// config and inputs). Activations files record it as "features_key"; a mismatch means the rows
// or split may differ.
std::string features_key(const std::filesystem::path& features_h5);

// Deterministic N(0,1) value for (seed, row, col): independent of chunking and rank count;
// rounded to float32 like every stored feature value.
double noise_value(std::uint64_t seed, std::int64_t row, std::int64_t col);

}  // namespace cfma::store
