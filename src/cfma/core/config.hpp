#pragma once
// The parsed config file. Each area owns its section struct and a parse function that reads
// it through ConfigSection's typed getters (see e.g. dsp/features_config.hpp). Every getter
// records the key it read; after all sections are parsed, check_unknown_keys() reports any
// key nobody read, with its line, so a typo never silently falls back to a default.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace toml {
inline namespace v3 {
class table;
class node;
}  // namespace v3
}  // namespace toml

namespace cfma {

struct Range {
  std::optional<double> min;
  std::optional<double> max;
  bool min_exclusive = false;
};
inline Range at_least(double v) { return {v, std::nullopt, false}; }
inline Range greater_than(double v) { return {v, std::nullopt, true}; }
inline Range between(double lo, double hi) { return {lo, hi, false}; }

class ConfigSection;

class ConfigDoc {
 public:
  // Parses `file` and applies `overrides` ("section.key=value", value in TOML syntax; a bare
  // word is taken as a string). Throws ConfigError naming the file and line.
  static ConfigDoc load(const std::filesystem::path& file,
                        const std::vector<std::string>& overrides = {});
  static ConfigDoc from_string(std::string_view text, std::string_view name = "<string>",
                               const std::vector<std::string>& overrides = {});

  ConfigSection section(std::string_view name) const;
  bool has_section(std::string_view name) const;
  // Throws ConfigError for the first key (in file order; --set keys last) that no getter read.
  void check_unknown_keys() const;
  const std::filesystem::path& file() const;
  // The whole document (after overrides) as TOML text, for manifests and logs.
  std::string to_toml() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

class ConfigSection {
 public:
  ConfigSection(std::shared_ptr<ConfigDoc::State> state, std::string path);

  bool has(std::string_view key) const;
  bool get_bool(std::string_view key, bool fallback) const;
  std::int64_t get_int(std::string_view key, std::int64_t fallback, Range range = {}) const;
  double get_double(std::string_view key, double fallback, Range range = {}) const;
  std::string get_string(std::string_view key, std::string fallback) const;
  std::string get_choice(std::string_view key, std::string fallback,
                         const std::vector<std::string>& choices) const;
  std::filesystem::path get_path(std::string_view key, std::filesystem::path fallback) const;
  std::vector<std::int64_t> get_int_list(std::string_view key, std::vector<std::int64_t> fallback,
                                         Range range = {}) const;
  std::vector<double> get_double_list(std::string_view key, std::vector<double> fallback,
                                      Range range = {}) const;
  std::vector<std::string> get_string_list(std::string_view key,
                                           std::vector<std::string> fallback) const;
  // A nested table, e.g. [extract.reduce]; missing -> empty section.
  ConfigSection subsection(std::string_view key) const;
  // Keys present in this section (file order), for map-like sections.
  std::vector<std::string> keys() const;
  const std::string& path() const { return path_; }

  // Throw ConfigError "<file>:<line>: <section.key>: <problem>" ("(--set)" for an override).
  // fail_element names element `index` of a list by its own line: "<section.key>[index]".
  // Cross-checks between sections use them so that every config error points at its line.
  [[noreturn]] void fail(std::string_view key, const std::string& problem) const;
  [[noreturn]] void fail_element(std::string_view key, std::size_t index, const std::string& problem) const;
  // Fails on the first element of `values` (the list read from `key`) that repeats an earlier one.
  template <class T>
  void check_unique(std::string_view key, const std::vector<T>& values) const {
    for (std::size_t i = 1; i < values.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (values[i] == values[j])
          fail_element(key, i, "repeats element " + std::to_string(j) + " (each entry once)");
  }

 private:
  const toml::node* lookup(std::string_view key) const;
  std::string where(std::string_view key, std::optional<std::size_t> index = std::nullopt) const;

  std::shared_ptr<ConfigDoc::State> state_;
  std::string path_;
};

}  // namespace cfma
