#include "tests/test_paths.hpp"

#include "cfma/core/atomic_file.hpp"
#include "cfma/par/world.hpp"

namespace cfma::test {

std::filesystem::path source_dir() { return CFMA_SOURCE_DIR; }
std::filesystem::path shared_dir() { return CFMA_SHARED_DIR; }
std::filesystem::path binary_dir() { return CFMA_BINARY_DIR; }
std::filesystem::path soundfont_path() { return "/usr/share/sounds/sf2/TimGM6mb.sf2"; }

std::filesystem::path scratch_dir(const std::string& name) {
  const auto dir = binary_dir() / "test-scratch" /
                   (name + "-np" + std::to_string(par::World::size()));
  if (par::World::rank() == 0) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  par::World::comm().barrier();
  return dir;
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  write_file(file, text);
}

}  // namespace cfma::test
