#include "cfma/preprocess/features_writer.hpp"

#include <algorithm>
#include <functional>
#include <numeric>
#include <vector>

#include <spdlog/spdlog.h>

#include "cfma/core/error.hpp"
#include "cfma/core/log.hpp"
#include "cfma/data/nsynth.hpp"
#include "cfma/dsp/feature_extractor.hpp"
#include "cfma/par/test_fault.hpp"
#include "cfma/par/world.hpp"
#include "cfma/preprocess/labels_writer.hpp"
#include "cfma/store/h5.hpp"
#include "cfma/store/schema.hpp"

namespace cfma::preprocess {
namespace {

namespace schema = store::schema;

void write_attributes(store::File& file, const std::string& config_key, std::int64_t n, const data::Selection& selection,
                      const dsp::FeaturesConfig& features_config, hsize_t frames) {
  file.set_attr("cfma_version", std::string(CFMA_VERSION));
  file.set_attr("config_key", config_key);
  file.set_attr("n_examples", n);
  file.set_attr("n_skipped", static_cast<std::int64_t>(selection.skipped.size()));
  file.set_attr("sample_rate", static_cast<std::int64_t>(features_config.sample_rate));
  file.set_attr("n_fft", static_cast<std::int64_t>(features_config.n_fft));
  file.set_attr("hop_length", static_cast<std::int64_t>(features_config.hop_length));
  file.set_attr("n_mels", static_cast<std::int64_t>(features_config.n_mels));
  file.set_attr("fmin", features_config.fmin);  // the report's spectrogram axes
  file.set_attr("fmax", features_config.fmax);
  file.set_attr("frames", static_cast<std::int64_t>(frames));
  file.set_attr("pad_mode", std::string(dsp::to_string(features_config.pad_mode)));
  file.set_attr("spectral_sr", static_cast<std::int64_t>(features_config.spectral_sr));
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  file.set_attr("hdf5_version", std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release));
}

}  // namespace

std::int64_t write_rounds(std::int64_t n, int ranks) {
  const auto largest_block = par::block_of(n, 0, ranks).size();
  return (largest_block + chunk_examples - 1) / chunk_examples;
}

std::int64_t write_features_file(const boost::mpi::communicator& comm, const std::filesystem::path& file_path,
                                 const data::Selection& selection, const data::DataConfig& data_config,
                                 const dsp::FeaturesConfig& features_config, const std::string& config_key,
                                 std::int64_t start_round) {
  const bool root = comm.rank() == 0;
  const auto n = static_cast<std::int64_t>(selection.examples.size());
  dsp::FeatureExtractor extractor(features_config);
  const auto& specs = extractor.specs();
  const auto n_mels = static_cast<hsize_t>(features_config.n_mels);
  const auto frames = static_cast<hsize_t>(dsp::frames(features_config));

  const bool resumed = start_round > 0;
  auto file = resumed ? store::File::open(file_path, MPI_Comm(comm), true) : store::File::create(file_path, MPI_Comm(comm));
  const auto rows = static_cast<hsize_t>(n);
  if (!resumed) file.create<float>(schema::mel_db, {rows, n_mels, frames}, {1, n_mels, frames});
  std::vector<std::int64_t> spec_width;
  for (const auto& spec : specs) {
    store::Dims dims{rows};
    for (const auto d : spec.shape) dims.push_back(static_cast<hsize_t>(d));
    store::Dims chunk = dims;
    chunk[0] = std::min<hsize_t>(rows, 256);
    if (!resumed) file.create<float>(schema::hand(spec.name), dims, chunk);
    spec_width.push_back(std::accumulate(spec.shape.begin(), spec.shape.end(), std::int64_t{1}, std::multiplies<>()));
  }
  if (!resumed) write_labels(file, selection, root);

  // Every rank does as many rounds as the largest block (ranks past their end write 0 rows):
  // the writes are collective.
  const auto block = par::block_of(n, comm.rank(), comm.size());
  const std::int64_t rounds = write_rounds(n, comm.size());
  const std::int64_t mel_size = static_cast<std::int64_t>(n_mels * frames);
  std::vector<float> mel(static_cast<std::size_t>(chunk_examples * mel_size));
  std::vector<std::vector<float>> hand(specs.size());
  for (std::size_t k = 0; k < specs.size(); ++k) hand[k].resize(static_cast<std::size_t>(chunk_examples * spec_width[k]));
  std::vector<float> samples(static_cast<std::size_t>(data_config.n_samples));
  dsp::NoteFeatures note;
  ProgressMeter progress("preprocess", n);
  std::string error;
  for (std::int64_t round = start_round; round < rounds; ++round) {
    if (par::stop_agreed(comm)) {
      file.close();  // rounds before this one are written and kept for the next attempt
      return round;
    }
    const auto begin = std::min(block.end, block.begin + round * chunk_examples);
    const auto end = std::min(block.end, begin + chunk_examples);
    try {
      for (auto i = begin; i < end; ++i) {
        data::read_note_audio(selection.examples[static_cast<std::size_t>(i)], data_config, samples);
        extractor.compute(samples, note);
        const auto j = i - begin;
        std::copy(note.mel_db.begin(), note.mel_db.end(), mel.begin() + j * mel_size);
        for (std::size_t k = 0; k < specs.size(); ++k)
          std::copy(note.hand[k].begin(), note.hand[k].end(), hand[k].begin() + j * spec_width[k]);
      }
      par::test_fault_point("preprocess");
    } catch (const std::exception& e) {
      error = e.what();  // the audio was validated; this is an I/O failure since then
    }
    par::check_all(comm, error);
    const auto count = static_cast<hsize_t>(end - begin);
    file.write_rows<float>(schema::mel_db, static_cast<hsize_t>(begin), count, mel.data());
    for (std::size_t k = 0; k < specs.size(); ++k)
      file.write_rows<float>(schema::hand(specs[k].name), static_cast<hsize_t>(begin), count, hand[k].data());
    if (root) {
      progress.update(std::min(n, (round + 1) * chunk_examples * comm.size()));
      spdlog::debug("preprocess: round {} of {} written", round + 1, rounds);
    }
  }
  if (root) progress.finish(n);
  write_attributes(file, config_key, n, selection, features_config, frames);
  file.close();  // collective; a failed close (disk full while flushing) throws on every rank
  return rounds;
}

}  // namespace cfma::preprocess
