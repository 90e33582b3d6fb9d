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

// Rounds every rank runs for n notes on comm.size() ranks (the writes are collective).
std::int64_t write_rounds(std::int64_t n, int ranks);

// Collective: creates `file_path` (start_round 0) or reopens it read-write (a resumed write)
// and writes /mel_db, /hand/*, /labels/*, /split/* and the root attributes (`config_key` among
// them) from round `start_round` on; the file is closed on return. A unit of work is a round:
// when a stop signal reaches any rank, every rank stops before the next round and the function
// returns that round (the rows before it are in the file); otherwise it returns write_rounds().
// The selection's audio must have been validated (fix_selection): a read failure now is an I/O
// error, thrown on every rank.
std::int64_t write_features_file(const boost::mpi::communicator& comm, const std::filesystem::path& file_path,
                                 const data::Selection& selection, const data::DataConfig& data_config,
                                 const dsp::FeaturesConfig& features_config, const std::string& config_key,
                                 std::int64_t start_round = 0);

}  // namespace cfma::preprocess
