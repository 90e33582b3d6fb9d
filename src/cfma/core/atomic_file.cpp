#include "cfma/core/atomic_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "cfma/core/error.hpp"

namespace cfma {

AtomicOutput::AtomicOutput(std::filesystem::path final_path, std::string_view tag)
    : final_(std::move(final_path)) {
  temp_ = final_;
  temp_ += ".tmp-" + std::string(tag);
  if (final_.has_parent_path()) std::filesystem::create_directories(final_.parent_path());
}

AtomicOutput::~AtomicOutput() {
  if (!done_) {
    std::error_code ec;
    std::filesystem::remove_all(temp_, ec);
  }
}

void AtomicOutput::commit() {
  std::error_code ec;
  std::filesystem::rename(temp_, final_, ec);
  if (ec) throw Error(final_.string() + ": cannot move output into place: " + ec.message());
  done_ = true;
}

void write_file(const std::filesystem::path& path, std::string_view content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw Error(path.string() + ": cannot create: " + std::strerror(errno));
  auto fail = [&](const char* what) {
    const int saved = errno;
    ::close(fd);
    std::error_code ignored;
    std::filesystem::remove(path, ignored);  // never leave a truncated file behind
    throw Error(path.string() + ": " + what + ": " + std::strerror(saved));
  };
  std::size_t written = 0;
  while (written < content.size()) {
    const auto n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write failed");
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 && errno != EINVAL) fail("fsync failed");
  if (::close(fd) != 0) {
    const int saved = errno;
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
    throw Error(path.string() + ": close failed: " + std::strerror(saved));
  }
}

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  auto temp = path;
  temp += ".tmp-" + std::to_string(::getpid());
  write_file(temp, content);
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw Error(path.string() + ": cannot move into place: " + ec.message());
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace cfma
