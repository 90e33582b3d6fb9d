#pragma once
// The example list and split of the preprocess stage, fixed once for all ranks:
//   rank 0: scan examples.json + audio/ (data.split = "official": those of nsynth-train and
//           nsynth-test), select (filter, subsample, split) -> broadcast
//   all:    validate the selected notes' audio not yet checked (audio_check.hpp); bad notes
//           are skipped (their problems join the scan's) or fail the job (data.on_error), and
//           the selection is redone without them, until every selected note has been read.
#include <string>

#include <boost/mpi/communicator.hpp>

#include "cfma/data/data_config.hpp"
#include "cfma/data/nsynth.hpp"
#include "cfma/data/selection.hpp"

namespace cfma::preprocess {

struct FixedSelection {
  data::Selection selection;  // identical on every rank
  std::string fingerprint;    // input_fingerprint of the final selection, identical on every rank
};

// Fingerprint of the inputs: the content of every examples.json scanned and every selected
// wav's size and mtime.
std::string input_fingerprint(const data::DatasetScan& scan, const data::Selection& selection);

// Collective: rank 0 scans the dataset as data.split needs it (data::scan_data_root; the others
// get an empty scan). Throws the scan's error on every rank.
data::DatasetScan scan_on_root(const data::DataConfig& config, const boost::mpi::communicator& comm);
// Collective: the input_fingerprint of the selection as made from the scan alone, before any
// audio is read (the preprocess stage key: a wav that changes changes its size or mtime, and so
// the key). Identical on every rank.
std::string scan_fingerprint(const data::DatasetScan& scan, const data::DataConfig& config,
                             const boost::mpi::communicator& comm);

// Collective, from rank 0's scan. Throws the selection's error on every rank; with on_error =
// fail, a DataError naming the first bad note.
FixedSelection fix_selection(const data::DataConfig& config, const boost::mpi::communicator& comm,
                             data::DatasetScan scan);

}  // namespace cfma::preprocess
