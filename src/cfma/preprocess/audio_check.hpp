#pragma once
// The distributed audio check of the preprocess stage: each rank reads its block
// (par::block_of) of the notes and reports what it could not use.
#include <vector>

#include <boost/mpi/communicator.hpp>

#include "cfma/data/data_config.hpp"
#include "cfma/data/example.hpp"
#include "cfma/data/nsynth.hpp"

namespace cfma::preprocess {

// Collective: reads every note of `examples` that this rank owns; a note is bad when its wav
// cannot be read as configured or is all zeros. Returns the problems of all ranks (rank order,
// then note order), the same on every rank.
std::vector<data::Problem> validate_audio(const std::vector<data::Example>& examples,
                                          const data::DataConfig& config, const boost::mpi::communicator& comm);

}  // namespace cfma::preprocess
