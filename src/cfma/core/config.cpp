#include "cfma/core/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <sstream>

#include <toml++/toml.h>

#include "cfma/core/error.hpp"

namespace cfma {

struct ConfigDoc::State {
  std::filesystem::path file;
  toml::table root;
  std::set<std::string> overridden;  // dotted keys set by --set
  mutable std::set<std::string> used;  // dotted keys read by a getter
};

namespace {

std::string join_key(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    default: return "date/time";
  }
}

void apply_override(ConfigDoc::State& state, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set " + assignment + ": expected section.key=value");
  std::string dotted = assignment.substr(0, eq);
  std::string value_text = assignment.substr(eq + 1);
  while (!dotted.empty() && dotted.back() == ' ') dotted.pop_back();
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + value_text);
  } catch (const toml::parse_error&) {
    parsed = toml::table{{"v", value_text}};  // a bare word: take it as a string
  }
  toml::table* table = &state.root;
  std::string_view rest = dotted;
  for (auto dot = rest.find('.'); dot != std::string_view::npos; dot = rest.find('.')) {
    const std::string part(rest.substr(0, dot));
    rest.remove_prefix(dot + 1);
    auto* child = table->get(part);
    if (!child) {
      table->insert(part, toml::table{});
      child = table->get(part);
    }
    if (!child->is_table())
      throw ConfigError("--set " + assignment + ": '" + part + "' is not a table");
    table = child->as_table();
  }
  table->insert_or_assign(std::string(rest), std::move(*parsed.get("v")));
  state.overridden.insert(dotted);
}

}  // namespace

ConfigDoc ConfigDoc::from_string(std::string_view text, std::string_view name,
                                 const std::vector<std::string>& overrides) {
  ConfigDoc doc;
  doc.state_ = std::make_shared<State>();
  doc.state_->file = std::string(name);
  try {
    doc.state_->root = toml::parse(text, std::string(name));
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << name << ":" << e.source().begin.line << ": " << e.description();
    throw ConfigError(msg.str());
  }
  for (const auto& o : overrides) apply_override(*doc.state_, o);
  return doc;
}

ConfigDoc ConfigDoc::load(const std::filesystem::path& file,
                          const std::vector<std::string>& overrides) {
  std::ifstream in(file);
  if (!in) throw ConfigError(file.string() + ": cannot open config file");
  std::stringstream text;
  text << in.rdbuf();
  auto doc = from_string(text.str(), file.string(), overrides);
  doc.state_->file = file;
  return doc;
}

ConfigSection ConfigDoc::section(std::string_view name) const {
  return ConfigSection(state_, std::string(name));
}

bool ConfigDoc::has_section(std::string_view name) const {
  return state_->root.get(name) != nullptr;
}

const std::filesystem::path& ConfigDoc::file() const { return state_->file; }

std::string ConfigDoc::to_toml() const {
  std::ostringstream out;
  out << state_->root;
  return out.str();
}

void ConfigDoc::check_unknown_keys() const {
  // A table counts as known when it was read as a whole (subsection of a map-like section);
  // otherwise its keys are checked one by one. toml++ keeps keys sorted by name, so the key
  // reported is the unknown one that comes first in the file (--set ones last).
  struct Unknown {
    std::uint32_t line;
    std::string dotted;
  };
  std::vector<Unknown> unknown;
  std::function<void(const toml::table&, const std::string&)> walk =
      [&](const toml::table& table, const std::string& prefix) {
        for (auto&& [key, node] : table) {
          const std::string dotted = join_key(prefix, key.str());
          if (state_->used.count(dotted)) continue;
          if (node.is_table()) {
            walk(*node.as_table(), dotted);
            continue;
          }
          const auto line = state_->overridden.count(dotted) ? UINT32_MAX : key.source().begin.line;
          unknown.push_back({line, dotted});
        }
      };
  walk(state_->root, "");
  if (unknown.empty()) return;
  const auto first = *std::min_element(unknown.begin(), unknown.end(),
                                       [](const Unknown& a, const Unknown& b) { return a.line < b.line; });
  std::ostringstream msg;
  msg << state_->file.string();
  if (first.line == UINT32_MAX) msg << " (--set)";
  else msg << ":" << first.line;
  msg << ": unknown key '" << first.dotted << "'";
  throw ConfigError(msg.str());
}

ConfigSection::ConfigSection(std::shared_ptr<ConfigDoc::State> state, std::string path)
    : state_(std::move(state)), path_(std::move(path)) {}

const toml::node* ConfigSection::lookup(std::string_view key) const {
  const std::string dotted = join_key(path_, key);
  state_->used.insert(dotted);
  return state_->root.at_path(dotted).node();
}

std::string ConfigSection::where(std::string_view key, std::optional<std::size_t> index) const {
  const std::string dotted = join_key(path_, key);
  std::ostringstream msg;
  msg << state_->file.string();
  const toml::node* n = state_->root.at_path(dotted).node();
  if (n && index && n->is_array() && *index < n->as_array()->size()) n = n->as_array()->get(*index);
  if (state_->overridden.count(dotted)) {
    msg << " (--set)";
  } else if (n && n->source().begin) {
    msg << ":" << n->source().begin.line;
  }
  msg << ": " << dotted;
  if (index) msg << "[" << *index << "]";
  if (!n) msg << " (default)";  // not in the file: a cross-check found its default wanting
  return msg.str();
}

void ConfigSection::fail(std::string_view key, const std::string& problem) const {
  throw ConfigError(where(key) + ": " + problem);
}

void ConfigSection::fail_element(std::string_view key, std::size_t index, const std::string& problem) const {
  throw ConfigError(where(key, index) + ": " + problem);
}

namespace {
std::string describe(const Range& r) {
  std::ostringstream s;
  if (r.min && r.max) s << "in [" << *r.min << ", " << *r.max << "]";
  else if (r.min) s << (r.min_exclusive ? "> " : ">= ") << *r.min;
  else if (r.max) s << "<= " << *r.max;
  return s.str();
}
bool in_range(double v, const Range& r) {
  if (!std::isfinite(v)) return false;  // no key takes nan or inf
  if (r.min && (r.min_exclusive ? v <= *r.min : v < *r.min)) return false;
  if (r.max && v > *r.max) return false;
  return true;
}
}  // namespace

bool ConfigSection::has(std::string_view key) const {
  return state_->root.at_path(join_key(path_, key)).node() != nullptr;
}

bool ConfigSection::get_bool(std::string_view key, bool fallback) const {
  const auto* n = lookup(key);
  if (!n) return fallback;
  if (!n->is_boolean()) fail(key, "expected boolean, got " + type_name(*n));
  return n->as_boolean()->get();
}

std::int64_t ConfigSection::get_int(std::string_view key, std::int64_t fallback,
                                    Range range) const {
  const auto* n = lookup(key);
  if (!n) return fallback;
  if (!n->is_integer()) fail(key, "expected integer, got " + type_name(*n));
  const auto v = n->as_integer()->get();
  if (!in_range(static_cast<double>(v), range))
    fail(key, "value " + std::to_string(v) + " out of range (must be " + describe(range) + ")");
  return v;
}

double ConfigSection::get_double(std::string_view key, double fallback, Range range) const {
  const auto* n = lookup(key);
  if (!n) return fallback;
  double v = 0;
  if (n->is_floating_point()) v = n->as_floating_point()->get();
  else if (n->is_integer()) v = static_cast<double>(n->as_integer()->get());
  else fail(key, "expected number, got " + type_name(*n));
  if (!in_range(v, range)) {
    std::ostringstream s;
    s << "value " << v << " out of range (must be " << describe(range) << ")";
    fail(key, s.str());
  }
  return v;
}

std::string ConfigSection::get_string(std::string_view key, std::string fallback) const {
  const auto* n = lookup(key);
  if (!n) return fallback;
  if (!n->is_string()) fail(key, "expected string, got " + type_name(*n));
  return n->as_string()->get();
}

std::string ConfigSection::get_choice(std::string_view key, std::string fallback,
                                      const std::vector<std::string>& choices) const {
  auto v = get_string(key, std::move(fallback));
  for (const auto& c : choices)
    if (c == v) return v;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + ("'" + c + "'");
  fail(key, "'" + v + "' is not one of " + list);
}

std::filesystem::path ConfigSection::get_path(std::string_view key,
                                              std::filesystem::path fallback) const {
  return get_string(key, fallback.string());
}

std::vector<std::int64_t> ConfigSection::get_int_list(std::string_view key,
                                                      std::vector<std::int64_t> fallback,
                                                      Range range) const {
  const auto* n = lookup(key);
  if (!n) return fallback;
  if (!n->is_array()) fail(key, "expected array of integers, got " + type_name(*n));
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < n->as_array()->size(); ++i) {
    const auto& item = *n->as_array()->get(i);
    if (!item.is_integer()) fail_element(key, i, "expected integer, got " + type_name(item));
    const auto v = item.as_integer()->get();
    if (!in_range(static_cast<double>(v), range))
      fail_element(key, i, "value " + std::to_string(v) + " out of range (must be " + describe(range) + ")");
    out.push_back(v);
  }
  return out;
}

std::vector<double> ConfigSection::get_double_list(std::string_view key,
                                                   std::vector<double> fallback,
                                                   Range range) const {
  const auto* n = lookup(key);
  if (!n) return fallback;
  if (!n->is_array()) fail(key, "expected array of numbers, got " + type_name(*n));
  std::vector<double> out;
  for (std::size_t i = 0; i < n->as_array()->size(); ++i) {
    const auto& item = *n->as_array()->get(i);
    double v = 0;
    if (item.is_floating_point()) v = item.as_floating_point()->get();
    else if (item.is_integer()) v = static_cast<double>(item.as_integer()->get());
    else fail_element(key, i, "expected number, got " + type_name(item));
    if (!in_range(v, range)) fail_element(key, i, "value out of range (must be " + describe(range) + ")");
    out.push_back(v);
  }
  return out;
}

std::vector<std::string> ConfigSection::get_string_list(std::string_view key,
                                                        std::vector<std::string> fallback) const {
  const auto* n = lookup(key);
  if (!n) return fallback;
  if (!n->is_array()) fail(key, "expected array of strings, got " + type_name(*n));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n->as_array()->size(); ++i) {
    const auto& item = *n->as_array()->get(i);
    if (!item.is_string()) fail_element(key, i, "expected string, got " + type_name(item));
    out.push_back(item.as_string()->get());
  }
  return out;
}

ConfigSection ConfigSection::subsection(std::string_view key) const {
  const auto* n = lookup(key);
  if (n && !n->is_table()) fail(key, "expected table, got " + type_name(*n));
  return ConfigSection(state_, join_key(path_, key));
}

std::vector<std::string> ConfigSection::keys() const {
  std::vector<std::pair<std::uint32_t, std::string>> found;
  const auto* n = path_.empty() ? &state_->root : state_->root.at_path(path_).node();
  if (n && n->is_table())
    for (auto&& [key, value] : *n->as_table()) found.emplace_back(key.source().begin.line, key.str());
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

}  // namespace cfma
