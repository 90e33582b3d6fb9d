#pragma once
// Content fingerprints for manifests: 64-bit FNV-1a, printed as 16 hex digits. Not
// cryptographic; it detects changed configs and inputs, which is all a manifest needs.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace cfma {

class Hasher {
 public:
  Hasher& bytes(const void* data, std::size_t size);
  Hasher& text(std::string_view s) { return bytes(s.data(), s.size()); }
  template <class T>
  Hasher& value(const T& v) { return bytes(&v, sizeof v); }
  std::uint64_t digest() const { return state_; }
  std::string hex() const;

 private:
  std::uint64_t state_ = 0xcbf29ce484222325ULL;
};

std::string hash_text(std::string_view s);
// Hash of a file's whole content (streamed).
std::string hash_file(const std::filesystem::path& file);
// Cheap fingerprint: path, size and modification time.
std::string fingerprint_file(const std::filesystem::path& file);

}  // namespace cfma
