#include "cfma/preprocess/labels_writer.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "cfma/store/schema.hpp"

namespace cfma::preprocess {
namespace {

namespace schema = store::schema;

template <class T, class F>
std::vector<T> column(const data::Selection& s, F f) {
  std::vector<T> out;
  out.reserve(s.examples.size());
  for (const auto& e : s.examples) out.push_back(static_cast<T>(f(e)));
  return out;
}

std::size_t max_width(const std::vector<std::string>& v) {
  std::size_t w = 1;
  for (const auto& s : v) w = std::max(w, s.size());
  return w;
}

}  // namespace

void write_labels(store::File& file, const data::Selection& s, bool root) {
  const auto n = static_cast<hsize_t>(s.examples.size());
  const auto write_ints = [&](const std::string& name, const std::vector<std::int32_t>& v) {
    file.create<std::int32_t>(schema::label(name), {n});
    file.write_all_from_root<std::int32_t>(schema::label(name), v, root);
  };
  const auto write_strings = [&](const std::string& name, const std::vector<std::string>& v) {
    file.create_strings(schema::label(name), v.size(), max_width(v));
    file.write_strings_from_root(schema::label(name), v, root);
  };
  const auto labels = data::family_labels(s);
  write_ints("family", std::vector<std::int32_t>(labels.begin(), labels.end()));
  write_ints("family_code", column<std::int32_t>(s, [](const auto& e) { return e.instrument_family; }));
  write_ints("pitch", column<std::int32_t>(s, [](const auto& e) { return e.pitch; }));
  write_ints("velocity", column<std::int32_t>(s, [](const auto& e) { return e.velocity; }));
  write_ints("instrument", column<std::int32_t>(s, [](const auto& e) { return e.instrument; }));
  write_ints("source", column<std::int32_t>(s, [](const auto& e) { return e.instrument_source; }));
  write_strings("family_names", s.family_names);
  write_strings("note_str", column<std::string>(s, [](const auto& e) { return e.note_str; }));
  write_strings("instrument_str", column<std::string>(s, [](const auto& e) { return e.instrument_str; }));
  std::vector<std::uint8_t> qualities;
  for (const auto& e : s.examples) qualities.insert(qualities.end(), e.qualities.begin(), e.qualities.end());
  file.create<std::uint8_t>(schema::label("qualities"), {n, 10});
  file.write_all_from_root<std::uint8_t>(schema::label("qualities"), qualities, root);
  file.create<std::int64_t>(schema::split_train, {s.train.size()});
  file.write_all_from_root<std::int64_t>(schema::split_train, s.train, root);
  file.create<std::int64_t>(schema::split_test, {s.test.size()});
  file.write_all_from_root<std::int64_t>(schema::split_test, s.test, root);
}

}  // namespace cfma::preprocess
