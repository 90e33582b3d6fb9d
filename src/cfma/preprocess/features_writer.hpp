#pragma once
// The collective write of features.h5 (layout: README.md, HDF5 schema). Every rank computes
// its contiguous block (par::block_of) of the rows, `chunk_examples` notes per round, and all
// ranks write each round's rows collectively, so memory per rank is one round's rows:
//   mel_db  chunk_examples x n_mels x frames floats (64 KiB per note at 128 x 128)
//   hand    chunk_examples x the width of each hand-crafted feature
#include <cstdint>
#include <filesystem>
#include <string>

#include <boost/mpi/communicator.hpp>

#include "cfma/data/data_config.hpp"
#include "cfma/data/selection.hpp"
#include "cfma/dsp/features_config.hpp"

namespace cfma::preprocess {

// Notes per collective round.
inline constexpr std::int64_t chunk_examples = 32;

// Collective: creates `file_path` and writes /mel_db, /hand/*, /labels/*, /split/* and the root
// attributes (`config_key` among them); the file is closed on return. The selection's audio
// must have been validated (fix_selection): a read failure now is an I/O error, thrown on
// every rank.
void write_features_file(const boost::mpi::communicator& comm, const std::filesystem::path& file_path,
                         const data::Selection& selection, const data::DataConfig& data_config,
                         const dsp::FeaturesConfig& features_config, const std::string& config_key);

}  // namespace cfma::preprocess
