#pragma once
// Small text helpers for messages and attributes.
#include <string>
#include <string_view>
#include <vector>

namespace cfma {

// "a, b, c" (separator ", ") or "a,b,c" (separator ",").
inline std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string text;
  for (const auto& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

}  // namespace cfma
