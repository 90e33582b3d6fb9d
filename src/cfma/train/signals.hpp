#pragma once
// The trainer's view of the stop signals (cfma/core/stop_signal.hpp): the trainer agrees on the
// flag across ranks at the next step, writes a checkpoint and stops.
#include "cfma/core/stop_signal.hpp"

namespace cfma::train {

using cfma::clear_stop_request;
using cfma::install_stop_signal_handlers;
using cfma::stop_requested;

}  // namespace cfma::train
