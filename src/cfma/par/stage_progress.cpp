#include "cfma/par/stage_progress.hpp"

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/hash.hpp"
#include "cfma/par/world.hpp"

namespace cfma::par {

namespace fs = std::filesystem;

namespace {
// A unit file: the unit's name on the first line, then its content.
constexpr std::string_view unit_suffix = ".unit";
}  // namespace

StageProgress::StageProgress(const boost::mpi::communicator& comm, fs::path dir, const std::string& key_hash)
    : comm_(comm), dir_(std::move(dir)) {
  std::string error;
  if (comm_.rank() == 0) {
    try {
      const auto key_file = dir_ / "key";
      if (fs::exists(key_file) && read_file(key_file) != key_hash) fs::remove_all(dir_);
      fs::create_directories(dir_);
      if (!fs::exists(key_file)) write_file_atomic(key_file, key_hash);
    } catch (const std::exception& e) {
      error = dir_.string() + ": " + e.what();
    }
  }
  check_all(comm_, error);
  try {
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.path().extension() != unit_suffix) continue;
      auto text = read_file(entry.path());  // written atomically: complete or absent
      const auto newline = text.find('\n');
      if (newline == std::string::npos) continue;
      done_.emplace(text.substr(0, newline), text.substr(newline + 1));
    }
  } catch (const std::exception& e) {
    error = dir_.string() + ": " + e.what();
  }
  check_all(comm_, error);
}

std::optional<std::string> StageProgress::find(const std::string& unit) const {
  const auto it = done_.find(unit);
  if (it == done_.end()) return std::nullopt;
  return it->second;
}

void StageProgress::save(const std::string& unit, std::string_view content) {
  std::string error;
  if (comm_.rank() == 0) {
    try {
      std::string text = unit + "\n";
      text += content;
      write_file_atomic(dir_ / (hash_text(unit).substr(0, 20) + std::string(unit_suffix)), text);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  check_all(comm_, error);
  done_.insert_or_assign(unit, std::string(content));
}

void StageProgress::remove() const {
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

}  // namespace cfma::par
