#pragma once
// One exception type per area. Messages name the file, key or example at fault; the CLI
// catches cfma::Error once, prints what() on one line and exits non-zero.
#include <stdexcept>
#include <string>

namespace cfma {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ConfigError : Error { using Error::Error; };   // bad TOML, unknown key, wrong type or range
struct DataError : Error { using Error::Error; };     // NSynth input: JSON, wav, selection
struct StoreError : Error { using Error::Error; };    // HDF5 files and their schema
struct DspError : Error { using Error::Error; };      // invalid DSP parameters
struct ModelError : Error { using Error::Error; };    // architectures, checkpoints
struct TrainError : Error { using Error::Error; };    // training runs and run directories
struct ProbeError : Error { using Error::Error; };    // probe inputs
struct SimilarityError : Error { using Error::Error; };
struct ReportError : Error { using Error::Error; };

}  // namespace cfma

namespace cfma {
// A job stopped on request (SIGTERM/SIGUSR1) after writing a checkpoint. The CLI exits with
// exit_code (3), which Slurm scripts read as "requeue me".
struct Interrupted : Error {
  using Error::Error;
  static constexpr int exit_code = 3;
};
}  // namespace cfma
