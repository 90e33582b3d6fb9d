#include "cfma/core/manifest.hpp"

#include <chrono>
#include <ctime>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/hash.hpp"

namespace cfma {

std::filesystem::path manifest_path(const std::filesystem::path& output) {
  auto p = output;
  p += ".manifest.json";
  return p;
}

std::string StageKey::hash() const {
  return hash_text(stage + "\n" + config.dump() + "\n" + inputs.dump());
}

void write_manifest(const std::filesystem::path& output, const StageKey& key,
                    const nlohmann::json& extra) {
  nlohmann::json m = extra;
  m["stage"] = key.stage;
  m["key"] = key.hash();
  m["config"] = key.config;
  m["inputs"] = key.inputs;
  m["cfma_version"] = CFMA_VERSION;
  // A truncated or replaced output no longer matches its manifest (read_manifest).
  std::error_code ec;
  if (const auto bytes = std::filesystem::file_size(output, ec); !ec) m["output_bytes"] = bytes;
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  m["written"] = buf;
  // Distinguishes two writes within one second (a forced recompute): downstream fingerprints.
  m["written_ns"] = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
  write_file_atomic(manifest_path(output), m.dump(2) + "\n");
}

std::optional<nlohmann::json> read_manifest(const std::filesystem::path& output) {
  const auto path = manifest_path(output);
  if (!std::filesystem::exists(path)) return std::nullopt;
  try {
    auto m = nlohmann::json::parse(read_file(path));
    if (m.contains("output_bytes")) {
      std::error_code ec;
      const auto bytes = std::filesystem::file_size(output, ec);
      if (ec || bytes != m["output_bytes"].get<std::uintmax_t>()) return std::nullopt;  // truncated or replaced
    }
    return m;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a damaged manifest means "recompute", never "accept"
  }
}

bool is_up_to_date(const std::filesystem::path& output, const StageKey& key) {
  if (!std::filesystem::exists(output)) return false;
  const auto m = read_manifest(output);
  return m && m->value("key", "") == key.hash();
}

std::string output_fingerprint(const std::filesystem::path& output) {
  if (const auto m = read_manifest(output); m && m->contains("key"))
    return (*m)["key"].get<std::string>() + ":" + std::to_string(m->value("written_ns", std::int64_t{0}));
  return fingerprint_file(output);
}

}  // namespace cfma
