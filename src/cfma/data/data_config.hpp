#pragma once
// [data]: which NSynth notes a pipeline uses and how they are split (reference-spec 1.1, 1.2).
//
//   root             NSynth folder in jsonwav layout (examples.json + audio/*.wav)
//   sources          instrument sources kept, names or codes (default ["acoustic"])
//   exclude_families families dropped, names or codes (default ["bass", "organ"])
//   subsample        draw this many notes (seeded, without replacement); 0 = all
//   subsample_seed   legacy-numpy seed of that draw (the paper drew unseeded, Q2)
//   split            how the notes are split into train and test (selection.hpp):
//                      "note"       per note, seeded (the paper's split: an instrument's notes
//                                   can sit in both splits)
//                      "instrument" instrument-disjoint, seeded, stratified by family: every
//                                   family has instruments in both splits
//                      "official"   NSynth's own folders: train = <root>/nsynth-train, test =
//                                   <root>/nsynth-test (nsynth-valid is not used);
//                                   test_fraction, split_seed and test_order do not apply
//   test_fraction    share of the selection in the test split (0.3); for "instrument", the share
//                    of each family's instruments
//   split_seed       legacy-numpy seed of the split permutation (17, as the paper)
//   test_order       "sorted" (ascending) or "numpy" (the draw's order, as the paper, Q3)
//   on_error         a bad note: "skip" (logged, listed in the manifest) or "fail"
//   sample_rate      required sample rate of every wav (16000)
//   n_samples        required length of every wav in samples (64000 = 4 s)
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfma/core/config.hpp"

namespace cfma::data {

enum class Split { note, instrument, official };
enum class TestOrder { sorted, numpy };
enum class OnError { skip, fail };

struct DataConfig {
  std::filesystem::path root = "data/nsynth";
  std::vector<int> sources = {0};              // NSynth source codes (0 = acoustic)
  std::vector<int> exclude_families = {0, 6};  // NSynth family codes (bass, organ)
  std::int64_t subsample = 0;
  std::uint32_t subsample_seed = 1;
  Split split = Split::note;
  double test_fraction = 0.3;
  std::uint32_t split_seed = 17;
  TestOrder test_order = TestOrder::sorted;
  OnError on_error = OnError::skip;
  int sample_rate = 16000;
  std::int64_t n_samples = 64000;
};

DataConfig parse_data_config(const ConfigDoc& doc);
// Names, not codes, for sources and families (readable manifests; same hash either way).
// `split` is written only when it is not "note", so the stage keys of workdirs made before the
// key existed stay valid (their features and the runs trained on them are not redone).
nlohmann::json to_json(const DataConfig& c);

std::string to_string(Split split);
std::string to_string(TestOrder order);
std::string to_string(OnError policy);

}  // namespace cfma::data
