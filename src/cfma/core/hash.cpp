#include "cfma/core/hash.hpp"

#include <array>
#include <cstdio>
#include <fstream>

#include "cfma/core/error.hpp"

namespace cfma {

Hasher& Hasher::bytes(const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    state_ ^= p[i];
    state_ *= 0x100000001b3ULL;
  }
  return *this;
}

std::string Hasher::hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(state_));
  return buf;
}

std::string hash_text(std::string_view s) { return Hasher{}.text(s).hex(); }

std::string hash_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file.string() + ": cannot open for hashing");
  Hasher h;
  std::array<char, 1 << 16> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    h.bytes(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  return h.hex();
}

std::string fingerprint_file(const std::filesystem::path& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) throw Error(file.string() + ": cannot stat: " + ec.message());
  const auto mtime = std::filesystem::last_write_time(file, ec).time_since_epoch().count();
  return Hasher{}.text(file.string()).value(size).value(mtime).hex();
}

}  // namespace cfma
