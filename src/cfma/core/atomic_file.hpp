#pragma once
// Atomic outputs: write under a temporary name in the same directory, then rename into
// place. A killed job leaves at most a stray temporary, never a file a later stage accepts.
#include <filesystem>
#include <string>
#include <string_view>

namespace cfma {

class AtomicOutput {
 public:
  // `tag` makes the temporary name unique per job (e.g. a value broadcast by rank 0, so all
  // ranks of a collective write agree on it).
  AtomicOutput(std::filesystem::path final_path, std::string_view tag);
  ~AtomicOutput();  // removes the temporary unless committed (owner only)
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::filesystem::path& temp_path() const { return temp_; }
  const std::filesystem::path& final_path() const { return final_; }
  // Renames temp -> final. Call on one process only (rank 0); others call release().
  void commit();
  // Forget the temporary without touching it (non-owning ranks of a collective write).
  void release() { done_ = true; }

 private:
  std::filesystem::path final_, temp_;
  bool done_ = false;
};

// Writes `content` to `path` (checked write, fsync and close; on failure the file is removed
// and the error names it with the system's reason, e.g. "No space left on device").
void write_file(const std::filesystem::path& path, std::string_view content);
// Writes `content` to `path` atomically (temp + fsync + rename).
void write_file_atomic(const std::filesystem::path& path, std::string_view content);
std::string read_file(const std::filesystem::path& path);

}  // namespace cfma
