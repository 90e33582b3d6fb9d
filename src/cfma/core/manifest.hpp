#pragma once
// Manifests: `<output>.manifest.json`, written last. A stage is up to date when its manifest
// exists, its output exists, and the recorded `key` (hash of the stage's config section and
// of its inputs' fingerprints) equals the current one.
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace cfma {

std::filesystem::path manifest_path(const std::filesystem::path& output);

struct StageKey {
  std::string stage;
  nlohmann::json config;  // the stage's effective config (after defaults and overrides)
  nlohmann::json inputs = nlohmann::json::object();  // name -> fingerprint
  std::string hash() const;
};

// Writes the manifest: key, hash, version, time, plus `extra` (counts, skipped examples...).
void write_manifest(const std::filesystem::path& output, const StageKey& key,
                    const nlohmann::json& extra = nlohmann::json::object());
// The manifest, or nullopt when there is none, it is damaged, or the output's size differs
// from the one recorded (a truncated or replaced output is never accepted).
std::optional<nlohmann::json> read_manifest(const std::filesystem::path& output);
bool is_up_to_date(const std::filesystem::path& output, const StageKey& key);
// Fingerprint of an upstream output for use in StageKey::inputs: its manifest hash when it
// has one (so a recomputed input invalidates the stage), else size + mtime.
std::string output_fingerprint(const std::filesystem::path& output);

}  // namespace cfma
