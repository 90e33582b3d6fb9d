#pragma once
// /labels/* and /split/* of features.h5 (layout: README.md, HDF5 schema), written collectively
// from rank 0's copy of the selection.
#include "cfma/data/selection.hpp"
#include "cfma/store/h5.hpp"

namespace cfma::preprocess {

// Collective on `file`'s communicator: creates and writes every label and split dataset; only
// the rank with `root` true contributes data.
void write_labels(store::File& file, const data::Selection& selection, bool root);

}  // namespace cfma::preprocess
