#include "cfma/preprocess/fixed_selection.hpp"

#include <algorithm>
#include <vector>

#include <boost/mpi/collectives.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cfma/core/error.hpp"
#include "cfma/core/hash.hpp"
#include "cfma/par/world.hpp"
#include "cfma/preprocess/audio_check.hpp"

namespace cfma::preprocess {

std::string input_fingerprint(const data::DatasetScan& scan, const data::Selection& selection) {
  Hasher h;
  for (const auto& index_file : scan.index_files) h.text(hash_file(index_file));
  for (const auto& e : selection.examples) h.text(fingerprint_file(e.wav));
  return h.hex();
}

data::DatasetScan scan_on_root(const data::DataConfig& config, const boost::mpi::communicator& comm) {
  data::DatasetScan scan;
  std::string error;
  if (comm.rank() == 0) {
    try {
      scan = data::scan_data_root(config);
    } catch (const Error& e) {
      error = e.what();
    }
  }
  par::check_all(comm, error);
  return scan;
}

std::string scan_fingerprint(const data::DatasetScan& scan, const data::DataConfig& config,
                             const boost::mpi::communicator& comm) {
  std::string fingerprint, error;
  if (comm.rank() == 0) {
    try {
      fingerprint = input_fingerprint(scan, data::select_examples(scan, config));
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  par::check_all(comm, error);
  boost::mpi::broadcast(comm, fingerprint, 0);
  return fingerprint;
}

FixedSelection fix_selection(const data::DataConfig& config, const boost::mpi::communicator& comm,
                             data::DatasetScan scan) {
  std::string error;
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
    FixedSelection fixed;
    fixed.selection = nlohmann::json::parse(selection_json).get<data::Selection>();
    std::vector<data::Example> unchecked;
    for (const auto& e : fixed.selection.examples)
      if (!std::binary_search(checked.begin(), checked.end(), e.note_str)) unchecked.push_back(e);
    if (unchecked.empty()) {
      if (comm.rank() == 0) fixed.fingerprint = input_fingerprint(scan, fixed.selection);
      boost::mpi::broadcast(comm, fixed.fingerprint, 0);
      return fixed;
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

}  // namespace cfma::preprocess
