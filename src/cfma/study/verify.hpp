#pragma once
// `cfma verify`: which results of two studies are the same (study_manifest.hpp).
//
// Every output both manifests list is put in one category:
//   bit-equal         same content hash (an HDF5 file: every dataset's values and attributes),
//                     or every value equal and only run metadata differs
//   within tolerance  differs only by what the output's contract allows (below)
//   different         beyond it: the largest difference and where it is
//   missing           one study lacks the output
//   not compared      presentation, not results (the report page: it names paths and times)
// Tolerances (what another thread count, BLAS kernel or CPU may change: the last bits of a
// product, and of every sum it feeds):
//   HDF5 datasets         max |a - b| <= 1e-6 * max(1, max |b|) over the dataset
//   CSV and JSON numbers  |a - b| <= 1e-5 * max(1, |a|, |b|) per value
//   model.pt              bit-equal only (weights feed every later stage; model.json carries
//                         their parameter hash)
// Run metadata that no result depends on (wall seconds, rank and thread counts, a solver's
// iteration count) is ignored, and
// each study's workdir path is read as "<workdir>". The inputs (data index and wavs) must be
// bit-equal.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cfma::study {

enum class Verdict { bit_equal, within_tolerance, different, missing, not_compared };
std::string to_string(Verdict v);

struct Comparison {
  std::string stage, output;  // output: path below the workdir, or "inputs/<file>"
  Verdict verdict = Verdict::bit_equal;
  std::string detail;         // where and how much, for within_tolerance and different
};

struct VerifyResult {
  std::vector<Comparison> rows;
  // True when nothing is different or missing.
  bool ok() const;
};

// CSV and JSON numbers (probe, similarity and training results): relative 1e-5. They are
// computed from float32 activations, and a probe on few rows amplifies a last-bit change of
// its inputs: 2 threads instead of 1 moved an R^2 on the 16 train notes of the reference set
// by 1.9e-6 relative (measured by tests/e2e/study_verify.sh).
inline constexpr double kTolerance = 1e-5;
// HDF5 datasets: max |a - b| relative to max(1, max |b|) of the dataset: float32 features and
// activations moved by at most 3e-7 with another thread count.
inline constexpr double kDatasetTolerance = 1e-6;

// Two studies (workdirs or study.json files), output by output, each file re-hashed: one that
// changed since its stage wrote it is different whatever the other study holds.
VerifyResult verify_studies(const std::filesystem::path& a, const std::filesystem::path& b);
// One study: every output and input re-hashed against its record ("different": changed since
// it was written; "missing": gone).
VerifyResult verify_study(const std::filesystem::path& study);

// The table `cfma verify` prints: one line per output, then a count per category.
std::string format_result(const VerifyResult& result);

// The comparison of two values of a CSV or JSON output, exposed for tests: within
// kTolerance * max(1, |a|, |b|).
bool within_tolerance(double a, double b);

}  // namespace cfma::study
