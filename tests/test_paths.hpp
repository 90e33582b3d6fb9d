#pragma once
// Paths tests use: the source tree, the shared reference data, and a per-test scratch folder.
#include <filesystem>
#include <string>

namespace cfma::test {

std::filesystem::path source_dir();
std::filesystem::path shared_dir();      // ../shared (reference data)
std::filesystem::path binary_dir();
std::filesystem::path soundfont_path();  // TimGM6mb (Debian timgm6mb-soundfont)
// A fresh, empty scratch directory under the build tree, the same on every rank (rank 0
// creates it; all ranks synchronise). `name` should be unique per test.
std::filesystem::path scratch_dir(const std::string& name);
// Writes `text` to `file`, creating its folders (fixtures of CSV and JSON outputs).
void write_text(const std::filesystem::path& file, const std::string& text);

}  // namespace cfma::test
