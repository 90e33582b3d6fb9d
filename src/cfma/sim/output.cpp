#include "cfma/sim/output.hpp"

#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "cfma/store/h5.hpp"

namespace cfma::sim {

namespace {
// Row-major copy of a matrix (HDF5 datasets are row-major).
template <class M>
std::vector<typename M::Scalar> row_major(const M& m) {
  std::vector<typename M::Scalar> v(static_cast<std::size_t>(m.size()));
  Eigen::Map<Eigen::Matrix<typename M::Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      v.data(), m.rows(), m.cols()) = m;
  return v;
}

template <class M>
void write_matrix(store::File& file, const std::string& name, const M& m) {
  using T = typename M::Scalar;
  file.create<T>(name, {static_cast<hsize_t>(m.rows()), static_cast<hsize_t>(m.cols())});
  const auto v = row_major(m);
  file.write_all_from_root<T>(name, std::span<const T>(v), true);
}

void write_names(store::File& file, const std::string& name, const std::vector<std::string>& values) {
  std::size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  file.create_strings(name, values.size(), width);
  file.write_strings_from_root(name, values, true);
}

std::string number(double v) { return std::isnan(v) ? "nan" : fmt::format("{:.17g}", v); }
}  // namespace

void write_similarity_h5(const std::filesystem::path& path, const std::vector<store::FeatureSet>& sets,
                         const std::vector<SplitResult>& results) {
  auto file = store::File::create(path, MPI_COMM_SELF);
  std::vector<std::string> names, display;
  std::vector<std::int64_t> dims;
  for (const auto& s : sets) {
    names.push_back(s.name);
    display.push_back(s.display_name);
    dims.push_back(s.columns());
  }
  write_names(file, "/set_names", names);
  write_names(file, "/set_display_names", display);
  file.create<std::int64_t>("/set_dims", {dims.size()});
  file.write_all_from_root<std::int64_t>("/set_dims", std::span<const std::int64_t>(dims), true);
  for (const auto& r : results) {
    const std::string g = "/" + r.split + "/";
    for (const auto& [measure, m] : r.values) write_matrix(file, g + measure, m);
    for (const auto& [measure, m] : r.ci_low) write_matrix(file, g + measure + "_ci_low", m);
    for (const auto& [measure, m] : r.ci_high) write_matrix(file, g + measure + "_ci_high", m);
    for (const auto& [measure, m] : r.p_value) write_matrix(file, g + measure + "_p_value", m);
    for (const auto& [measure, m] : r.null_sd) write_matrix(file, g + measure + "_null_sd", m);
    write_matrix(file, g + "path", r.path);
    const std::vector<std::int64_t> rows{r.rows};
    file.create<std::int64_t>(g + "rows", {1});
    file.write_all_from_root<std::int64_t>(g + "rows", std::span<const std::int64_t>(rows), true);
  }
  file.flush();
}

std::string similarity_csv(const std::vector<store::FeatureSet>& sets, const std::vector<SplitResult>& results) {
  std::ostringstream out;
  out << "split,measure,set_a,set_b,value,ci_low,ci_high,p_value,null_sd\n";
  for (const auto& r : results)
    for (const auto& [measure, m] : r.values) {
      const auto lo = r.ci_low.find(measure), hi = r.ci_high.find(measure), p = r.p_value.find(measure);
      const auto sd = r.null_sd.find(measure);
      for (Eigen::Index a = 0; a < m.rows(); ++a)
        for (Eigen::Index b = 0; b < m.cols(); ++b) {
          out << r.split << ',' << measure << ',' << sets[static_cast<std::size_t>(a)].name << ','
              << sets[static_cast<std::size_t>(b)].name << ',' << number(m(a, b)) << ',';
          if (lo != r.ci_low.end()) out << number(lo->second(a, b)) << ',' << number(hi->second(a, b));
          else out << ',';
          out << ',';
          if (p != r.p_value.end()) out << number(p->second(a, b));
          out << ',';
          if (sd != r.null_sd.end()) out << number(sd->second(a, b));
          out << '\n';
        }
    }
  return out.str();
}

}  // namespace cfma::sim
