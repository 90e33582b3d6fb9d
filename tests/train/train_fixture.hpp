#pragma once
// A small features.h5 for the train tests, written collectively with cfma::store::File in the
// preprocess schema (src/cfma/store/schema.hpp): seeded random log-mel "spectrograms" whose
// level in a class-dependent band of mel rows carries the family, plus family/pitch/velocity
// labels and a fixed split; then the manifest, as the preprocess stage would write it.
// Header-only: the test CMake globs only test_* / mpi_* sources.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <boost/mpi/communicator.hpp>

#include "cfma/core/manifest.hpp"
#include "cfma/par/world.hpp"
#include "cfma/store/h5.hpp"
#include "cfma/store/schema.hpp"

namespace cfma::test {

struct TrainFixture {
  std::int64_t examples = 96;
  int classes = 4;
  std::uint64_t seed = 7;
  std::set<std::string> omit_labels;  // e.g. {"pitch"}: a store missing that label dataset
};

struct FixtureLabels {
  std::vector<std::int32_t> family, pitch, velocity;
  std::vector<std::int64_t> train, test;
};

inline constexpr std::int64_t fixture_mels = 128, fixture_frames = 128;

// Labels and split: the same on every rank (computed from the seed alone). Every 4th row is a
// test row.
inline FixtureLabels fixture_labels(const TrainFixture& f) {
  FixtureLabels l;
  std::mt19937_64 rng(f.seed);
  for (std::int64_t i = 0; i < f.examples; ++i) {
    l.family.push_back(static_cast<std::int32_t>(i % f.classes));
    l.pitch.push_back(static_cast<std::int32_t>(21 + rng() % 88));
    l.velocity.push_back(static_cast<std::int32_t>(25 * (1 + rng() % 5)));
    (i % 4 == 3 ? l.test : l.train).push_back(i);
  }
  return l;
}

// Example `row`'s [128,128] mel_db values, from a generator seeded by (seed, row), so any rank
// can produce any row.
inline void fixture_mel(const TrainFixture& f, std::int64_t row, std::int32_t family, float* out) {
  std::mt19937_64 rng(f.seed * 1000003ULL + static_cast<std::uint64_t>(row));
  std::normal_distribution<float> noise(-50.0f, 8.0f);
  const std::int64_t band = fixture_mels / f.classes;
  for (std::int64_t m = 0; m < fixture_mels; ++m) {
    const float lift = m / band == family ? 20.0f : 0.0f;
    for (std::int64_t t = 0; t < fixture_frames; ++t) out[m * fixture_frames + t] = noise(rng) + lift;
  }
}

// Collective over `comm`: writes `file` (each rank writes its block of /mel_db) and, on rank 0,
// its manifest.
inline void write_train_fixture(const std::filesystem::path& file, const TrainFixture& f,
                                const boost::mpi::communicator& comm) {
  const auto labels = fixture_labels(f);
  const bool root = comm.rank() == 0;
  {
    auto h5 = store::File::create(file, MPI_Comm(comm));
    const auto n = static_cast<hsize_t>(f.examples);
    h5.create<float>(store::schema::mel_db, {n, fixture_mels, fixture_frames}, {1, fixture_mels, fixture_frames});
    const auto block = par::block_of(f.examples, comm.rank(), comm.size());
    std::vector<float> mel(static_cast<std::size_t>((block.end - block.begin) * fixture_mels * fixture_frames));
    for (std::int64_t r = block.begin; r < block.end; ++r)
      fixture_mel(f, r, labels.family[static_cast<std::size_t>(r)],
                  mel.data() + (r - block.begin) * fixture_mels * fixture_frames);
    h5.write_rows<float>(store::schema::mel_db, static_cast<hsize_t>(block.begin),
                         static_cast<hsize_t>(block.end - block.begin), mel.data());
    const auto put = [&](const std::string& name, const auto& values) {
      using T = typename std::decay_t<decltype(values)>::value_type;
      h5.create<T>(name, {values.size()});
      h5.write_all_from_root<T>(name, std::span<const T>(values), root);
    };
    if (!f.omit_labels.count("family")) put(store::schema::label("family"), labels.family);
    if (!f.omit_labels.count("pitch")) put(store::schema::label("pitch"), labels.pitch);
    if (!f.omit_labels.count("velocity")) put(store::schema::label("velocity"), labels.velocity);
    std::vector<std::string> names;
    for (int k = 0; k < f.classes; ++k) names.push_back("family" + std::to_string(k));
    h5.create_strings(store::schema::label("family_names"), names.size(), 16);
    h5.write_strings_from_root(store::schema::label("family_names"), names, root);
    put(store::schema::split_train, labels.train);
    put(store::schema::split_test, labels.test);
    h5.set_attr("n_examples", static_cast<std::int64_t>(f.examples));
  }
  if (root)
    write_manifest(file, StageKey{"preprocess", {{"fixture_seed", f.seed}, {"examples", f.examples}}},
                   {{"examples", f.examples}});
  comm.barrier();
}

inline std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace cfma::test
