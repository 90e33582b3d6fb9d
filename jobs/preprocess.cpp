// `cfma preprocess CONFIG`: NSynth notes -> features.h5 (design: Sharding).
//   rank 0: scan examples.json + audio/, select (filter, subsample, split) -> broadcast
//   all:    validate the selected notes' audio (each rank a block); bad notes are skipped or
//           fail the job (data.on_error), then the selection is redone without them
//   all:    each rank computes its contiguous block of rows chunk by chunk and writes them
//           collectively into one features.h5 (temporary name, renamed, manifest last)
#include <algorithm>
#include <numeric>

#include <boost/mpi/collectives.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/hash.hpp"
#include "cfma/core/log.hpp"
#include "cfma/core/manifest.hpp"
#include "cfma/core/paths.hpp"
#include "cfma/core/run_config.hpp"
#include "cfma/data/data_config.hpp"
#include "cfma/data/nsynth.hpp"
#include "cfma/data/selection.hpp"
#include "cfma/dsp/feature_extractor.hpp"
#include "cfma/dsp/features_config.hpp"
#include "cfma/par/world.hpp"
#include "cfma/store/h5.hpp"
#include "cfma/store/schema.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {
namespace {

namespace schema = store::schema;
using boost::mpi::communicator;

// Examples written per collective round: bounds memory (a chunk of mel_db is 64 KiB/example).
constexpr std::int64_t chunk_examples = 32;

void validate(const ConfigDoc& doc) {
  data::parse_data_config(doc);
  dsp::parse_features_config(doc);
}

// Fingerprint of the inputs: examples.json's content and every selected wav's size and mtime.
std::string input_fingerprint(const data::DatasetScan& scan, const data::Selection& selection) {
  Hasher h;
  h.text(hash_file(scan.root / "examples.json"));
  for (const auto& e : selection.examples) h.text(fingerprint_file(e.wav));
  return h.hex();
}

// Reads every note of `examples` that this rank owns; returns the problems of all ranks.
std::vector<data::Problem> validate_audio(const std::vector<data::Example>& examples,
                                          const data::DataConfig& config, const communicator& comm) {
  const auto block = par::block_of(static_cast<std::int64_t>(examples.size()), comm.rank(), comm.size());
  std::vector<float> samples(static_cast<std::size_t>(config.n_samples));
  nlohmann::json local = nlohmann::json::array();
  for (auto i = block.begin; i < block.end; ++i) {
    const auto& e = examples[static_cast<std::size_t>(i)];
    try {
      data::read_note_audio(e, config, samples);
      // An all-zero note has no defined spectral shape (0/0 in centroid, kurtosis).
      if (std::all_of(samples.begin(), samples.end(), [](float v) { return v == 0.0f; }))
        throw DataError(e.wav.string() + ": silent note (all samples are zero)");
    } catch (const DataError& err) {
      local.push_back(data::Problem{e.note_str, e.wav, err.what()});
    }
  }
  std::vector<std::string> gathered;
  boost::mpi::all_gather(comm, local.dump(), gathered);
  std::vector<data::Problem> problems;
  for (const auto& text : gathered)
    for (const auto& p : nlohmann::json::parse(text)) problems.push_back(p.get<data::Problem>());
  return problems;
}

// Rank 0 scans and selects; bad audio found by the distributed check is added to the scan's
// problems and the selection redone, until every selected note has been read successfully.
data::Selection fix_selection(const data::DataConfig& config, const communicator& comm,
                              std::string& fingerprint) {
  data::DatasetScan scan;
  std::string error;
  if (comm.rank() == 0) {
    try {
      scan = data::scan_dataset(config.root);
    } catch (const Error& e) {
      error = e.what();
    }
  }
  par::check_all(comm, error);
  std::vector<std::string> checked;  // note_strs whose audio is known good
  for (;;) {
    std::string selection_json;
    if (comm.rank() == 0) {
      try {
        selection_json = nlohmann::json(data::select_examples(scan, config)).dump();
      } catch (const Error& e) {
        error = e.what();
      }
    }
    par::check_all(comm, error);
    boost::mpi::broadcast(comm, selection_json, 0);
    auto selection = nlohmann::json::parse(selection_json).get<data::Selection>();
    std::vector<data::Example> unchecked;
    for (const auto& e : selection.examples)
      if (!std::binary_search(checked.begin(), checked.end(), e.note_str)) unchecked.push_back(e);
    if (unchecked.empty()) {
      if (comm.rank() == 0) fingerprint = input_fingerprint(scan, selection);
      boost::mpi::broadcast(comm, fingerprint, 0);
      return selection;
    }
    const auto problems = validate_audio(unchecked, config, comm);
    if (!problems.empty() && config.on_error == data::OnError::fail)
      throw DataError(data::to_string(problems.front()));
    for (const auto& e : unchecked) checked.push_back(e.note_str);
    std::sort(checked.begin(), checked.end());
    if (comm.rank() == 0) {
      for (const auto& p : problems) {
        spdlog::warn("skipping {}", data::to_string(p));
        scan.problems.push_back(p);
        std::erase_if(scan.examples, [&](const data::Example& e) { return e.note_str == p.note_str; });
      }
    }
  }
}

template <class T, class F>
std::vector<T> column(const data::Selection& s, F f) {
  std::vector<T> out;
  out.reserve(s.examples.size());
  for (const auto& e : s.examples) out.push_back(static_cast<T>(f(e)));
  return out;
}

std::size_t max_width(const std::vector<std::string>& v) {
  std::size_t w = 1;
  for (const auto& s : v) w = std::max(w, s.size());
  return w;
}

void write_labels(store::File& file, const data::Selection& s, bool root) {
  const auto n = static_cast<hsize_t>(s.examples.size());
  const auto write_ints = [&](const std::string& name, const std::vector<std::int32_t>& v) {
    file.create<std::int32_t>(schema::label(name), {n});
    file.write_all_from_root<std::int32_t>(schema::label(name), v, root);
  };
  const auto write_strings = [&](const std::string& name, const std::vector<std::string>& v) {
    file.create_strings(schema::label(name), v.size(), max_width(v));
    file.write_strings_from_root(schema::label(name), v, root);
  };
  const auto labels = data::family_labels(s);
  write_ints("family", std::vector<std::int32_t>(labels.begin(), labels.end()));
  write_ints("family_code", column<std::int32_t>(s, [](const auto& e) { return e.instrument_family; }));
  write_ints("pitch", column<std::int32_t>(s, [](const auto& e) { return e.pitch; }));
  write_ints("velocity", column<std::int32_t>(s, [](const auto& e) { return e.velocity; }));
  write_ints("instrument", column<std::int32_t>(s, [](const auto& e) { return e.instrument; }));
  write_ints("source", column<std::int32_t>(s, [](const auto& e) { return e.instrument_source; }));
  write_strings("family_names", s.family_names);
  write_strings("note_str", column<std::string>(s, [](const auto& e) { return e.note_str; }));
  write_strings("instrument_str", column<std::string>(s, [](const auto& e) { return e.instrument_str; }));
  std::vector<std::uint8_t> qualities;
  for (const auto& e : s.examples) qualities.insert(qualities.end(), e.qualities.begin(), e.qualities.end());
  file.create<std::uint8_t>(schema::label("qualities"), {n, 10});
  file.write_all_from_root<std::uint8_t>(schema::label("qualities"), qualities, root);
  file.create<std::int64_t>(schema::split_train, {s.train.size()});
  file.write_all_from_root<std::int64_t>(schema::split_train, s.train, root);
  file.create<std::int64_t>(schema::split_test, {s.test.size()});
  file.write_all_from_root<std::int64_t>(schema::split_test, s.test, root);
}

void run(const ConfigDoc& doc, const StageOptions& options) {
  auto& comm = par::World::comm();
  const bool root = comm.rank() == 0;
  const auto run_config = parse_run_config(doc);
  const auto data_config = data::parse_data_config(doc);
  const auto features_config = dsp::parse_features_config(doc);
  const WorkPaths paths{run_config.workdir};
  const auto output = paths.features();

  std::string fingerprint;
  const auto selection = fix_selection(data_config, comm, fingerprint);
  const StageKey key{"preprocess",
                     {{"data", data::to_json(data_config)}, {"features", dsp::to_json(features_config)}},
                     {{"nsynth", fingerprint}}};
  int up_to_date = root && !options.force && is_up_to_date(output, key) ? 1 : 0;
  boost::mpi::broadcast(comm, up_to_date, 0);
  if (up_to_date) {
    spdlog::info("preprocess: {} is up to date, skipped", output.string());
    return;
  }

  const auto n = static_cast<std::int64_t>(selection.examples.size());
  spdlog::info("preprocess: {} notes ({} train, {} test, {} skipped) on {} ranks -> {}", n,
               selection.train.size(), selection.test.size(), selection.skipped.size(), comm.size(),
               output.string());
  dsp::FeatureExtractor extractor(features_config);
  const auto& specs = extractor.specs();
  const auto n_mels = static_cast<hsize_t>(features_config.n_mels);
  const auto frames = static_cast<hsize_t>(dsp::frames(features_config));

  AtomicOutput out(output, par::shared_tag(comm));
  {
    auto file = store::File::create(out.temp_path(), MPI_Comm(comm));
    const auto rows = static_cast<hsize_t>(n);
    file.create<float>(schema::mel_db, {rows, n_mels, frames}, {1, n_mels, frames});
    std::vector<std::int64_t> spec_width;
    for (const auto& spec : specs) {
      store::Dims dims{rows};
      for (const auto d : spec.shape) dims.push_back(static_cast<hsize_t>(d));
      store::Dims chunk = dims;
      chunk[0] = std::min<hsize_t>(rows, 256);
      file.create<float>(schema::hand(spec.name), dims, chunk);
      spec_width.push_back(std::accumulate(spec.shape.begin(), spec.shape.end(), std::int64_t{1}, std::multiplies<>()));
    }
    write_labels(file, selection, root);

    const auto block = par::block_of(n, comm.rank(), comm.size());
    const auto largest_block = par::block_of(n, 0, comm.size()).size();
    const std::int64_t rounds = (largest_block + chunk_examples - 1) / chunk_examples;
    const std::int64_t mel_size = static_cast<std::int64_t>(n_mels * frames);
    std::vector<float> mel(static_cast<std::size_t>(chunk_examples * mel_size));
    std::vector<std::vector<float>> hand(specs.size());
    for (std::size_t k = 0; k < specs.size(); ++k) hand[k].resize(static_cast<std::size_t>(chunk_examples * spec_width[k]));
    std::vector<float> samples(static_cast<std::size_t>(data_config.n_samples));
    dsp::NoteFeatures note;
    ProgressMeter progress("preprocess", n);
    std::string error;
    for (std::int64_t round = 0; round < rounds; ++round) {
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
      } catch (const Error& e) {
        error = e.what();  // the audio was validated; this is an I/O failure since then
      }
      par::check_all(comm, error);
      const auto count = static_cast<hsize_t>(end - begin);
      file.write_rows<float>(schema::mel_db, static_cast<hsize_t>(begin), count, mel.data());
      for (std::size_t k = 0; k < specs.size(); ++k)
        file.write_rows<float>(schema::hand(specs[k].name), static_cast<hsize_t>(begin), count, hand[k].data());
      if (root) progress.update(std::min(n, (round + 1) * chunk_examples * comm.size()));
    }
    if (root) progress.finish(n);

    file.set_attr("cfma_version", std::string(CFMA_VERSION));
    file.set_attr("config_key", key.hash());
    file.set_attr("n_examples", n);
    file.set_attr("n_skipped", static_cast<std::int64_t>(selection.skipped.size()));
    file.set_attr("sample_rate", static_cast<std::int64_t>(features_config.sample_rate));
    file.set_attr("n_fft", static_cast<std::int64_t>(features_config.n_fft));
    file.set_attr("hop_length", static_cast<std::int64_t>(features_config.hop_length));
    file.set_attr("n_mels", static_cast<std::int64_t>(features_config.n_mels));
    file.set_attr("frames", static_cast<std::int64_t>(frames));
    file.set_attr("pad_mode", std::string(dsp::to_string(features_config.pad_mode)));
    file.set_attr("spectral_sr", static_cast<std::int64_t>(features_config.spectral_sr));
    unsigned major = 0, minor = 0, release = 0;
    H5get_libversion(&major, &minor, &release);
    file.set_attr("hdf5_version", std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release));
  }  // closed collectively
  comm.barrier();
  if (root) {
    out.commit();
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& p : selection.skipped) skipped.push_back(p);
    write_manifest(output, key, {{"examples", n}, {"train", selection.train.size()},
                                 {"test", selection.test.size()}, {"skipped", skipped},
                                 {"ranks", comm.size()}});
    spdlog::info("preprocess: wrote {} ({} notes, {} skipped)", output.string(), n, selection.skipped.size());
  } else {
    out.release();
  }
  comm.barrier();
}

const Registrar preprocess_stage{Stage{
    "preprocess", 10, "NSynth notes -> features.h5 (mel_db, hand-crafted features, labels, split)",
    validate, run}};

}  // namespace
}  // namespace cfma::jobs
