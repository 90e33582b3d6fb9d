#include "cfma/preprocess/audio_check.hpp"

#include <algorithm>
#include <string>

#include <boost/mpi/collectives.hpp>
#include <nlohmann/json.hpp>

#include "cfma/core/error.hpp"
#include "cfma/par/world.hpp"

namespace cfma::preprocess {

std::vector<data::Problem> validate_audio(const std::vector<data::Example>& examples,
                                          const data::DataConfig& config, const boost::mpi::communicator& comm) {
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

}  // namespace cfma::preprocess
