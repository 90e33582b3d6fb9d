#pragma once
// What an HDF5 file holds, independent of how it was written: two files whose datasets and
// attributes are equal value for value have the same digest, whatever their chunking, rank
// count, object timestamps or free-space layout (the file's bytes differ in all of those).
// Provenance attributes (names ending in _key or _version: the config key, the upstream
// output's fingerprint, the writing build) are not content. Used by the study manifest and
// `cfma verify`.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cfma/store/h5.hpp"

namespace cfma::store {

struct DatasetDigest {
  std::string name;  // "/hand/rms"
  std::string type;  // "float32", "int64", "string16", ...
  Dims dims;
  std::string hash;  // name, type, dims, values, attributes
};

struct ContentDigest {
  std::string hash;                     // of every dataset's digest and the root's attributes
  std::vector<DatasetDigest> datasets;  // in name order
};

// Serial read of every dataset (in row blocks of bounded size). Throws StoreError naming the file.
ContentDigest content_digest(const std::filesystem::path& file);

// Where two numeric datasets differ most: the largest |a - b|, its flat element index, and the
// largest |b| (the scale the difference is judged against). `comparable` is false when the
// datasets' dims or kinds differ (then `why` says how). Reads both in row blocks.
struct DatasetDifference {
  bool comparable = true;
  std::string why;
  double max_abs = 0, scale = 0;
  std::uint64_t at = 0;   // flat index of the largest difference
  std::uint64_t row = 0;  // its row (first dimension)
};
DatasetDifference compare_datasets(const File& a, const File& b, const std::string& name);

}  // namespace cfma::store
