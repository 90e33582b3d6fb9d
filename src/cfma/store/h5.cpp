#include "cfma/store/h5.hpp"

#include <cstring>
#include <functional>
#include <numeric>

#include "cfma/core/error.hpp"

namespace cfma::store {

void Handle::reset() {
  if (id_ >= 0 && close_) close_(id_);
  id_ = -1;
}

template <> hid_t h5_type<float>() { return H5T_NATIVE_FLOAT; }
template <> hid_t h5_type<double>() { return H5T_NATIVE_DOUBLE; }
template <> hid_t h5_type<std::int32_t>() { return H5T_NATIVE_INT32; }
template <> hid_t h5_type<std::int64_t>() { return H5T_NATIVE_INT64; }
template <> hid_t h5_type<std::uint8_t>() { return H5T_NATIVE_UINT8; }

void quiet_hdf5_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

void File::fail(const std::string& what) const {
  throw StoreError(path_.string() + ": " + what);
}

namespace {
Handle mpio_fapl(MPI_Comm comm) {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fapl_mpio(fapl.id(), comm, MPI_INFO_NULL);
  return fapl;
}
}  // namespace

File File::create(const std::filesystem::path& path, MPI_Comm comm) {
  quiet_hdf5_errors();
  File f;
  f.path_ = path;
  f.parallel_ = true;
  auto fapl = mpio_fapl(comm);
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id());
  if (id < 0) f.fail("cannot create HDF5 file");
  f.file_ = Handle(id, H5Fclose);
  return f;
}

File File::open(const std::filesystem::path& path, MPI_Comm comm, bool writable) {
  quiet_hdf5_errors();
  File f;
  f.path_ = path;
  f.parallel_ = true;
  if (!std::filesystem::exists(path)) f.fail("no such file");
  auto fapl = mpio_fapl(comm);
  const hid_t id = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.id());
  if (id < 0) f.fail("cannot open as HDF5 (damaged or not an HDF5 file)");
  f.file_ = Handle(id, H5Fclose);
  return f;
}

File File::open_serial(const std::filesystem::path& path) {
  quiet_hdf5_errors();
  File f;
  f.path_ = path;
  if (!std::filesystem::exists(path)) f.fail("no such file");
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) f.fail("cannot open as HDF5 (damaged or not an HDF5 file)");
  f.file_ = Handle(id, H5Fclose);
  return f;
}

bool File::exists(const std::string& name) const {
  // Check each path component: H5Lexists fails on a missing intermediate group.
  std::string partial;
  std::size_t pos = name[0] == '/' ? 1 : 0;
  while (pos <= name.size()) {
    const auto next = name.find('/', pos);
    partial = name.substr(0, next == std::string::npos ? name.size() : next);
    if (H5Lexists(file_.id(), partial.c_str(), H5P_DEFAULT) <= 0) return false;
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return true;
}

Handle File::open_dataset(const std::string& name) const {
  if (!exists(name)) fail("missing dataset '" + name + "'");
  const hid_t id = H5Dopen2(file_.id(), name.c_str(), H5P_DEFAULT);
  if (id < 0) fail("cannot open dataset '" + name + "'");
  return Handle(id, H5Dclose);
}

Dims File::dims(const std::string& name) const {
  auto ds = open_dataset(name);
  Handle space(H5Dget_space(ds.id()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.id());
  Dims d(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.id(), d.data(), nullptr);
  return d;
}

void File::create_group(const std::string& name) {
  if (exists(name)) return;
  Handle g(H5Gcreate2(file_.id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  if (!g) fail("cannot create group '" + name + "'");
}

namespace {
Handle link_props() {
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.id(), 1);
  return lcpl;
}
}  // namespace

template <class T>
void File::create(const std::string& name, const Dims& dims, const Dims& chunk) {
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  const bool empty = std::accumulate(dims.begin(), dims.end(), hsize_t{1}, std::multiplies<>()) == 0;
  if (!chunk.empty() && !empty) H5Pset_chunk(dcpl.id(), static_cast<int>(chunk.size()), chunk.data());
  // Never write fill values: every element is written by exactly one rank.
  H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_NEVER);
  H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY);
  auto lcpl = link_props();
  Handle ds(H5Dcreate2(file_.id(), name.c_str(), h5_type<T>(), space.id(), lcpl.id(), dcpl.id(),
                       H5P_DEFAULT),
            H5Dclose);
  if (!ds) fail("cannot create dataset '" + name + "'");
}

void File::create_strings(const std::string& name, hsize_t count, std::size_t width) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.id(), std::max<std::size_t>(width, 1));
  H5Tset_strpad(type.id(), H5T_STR_NULLPAD);
  Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY);
  auto lcpl = link_props();
  Handle ds(H5Dcreate2(file_.id(), name.c_str(), type.id(), space.id(), lcpl.id(), dcpl.id(),
                       H5P_DEFAULT),
            H5Dclose);
  if (!ds) fail("cannot create dataset '" + name + "'");
}

Handle File::xfer_collective() const {
  Handle dxpl(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  if (parallel_) H5Pset_dxpl_mpio(dxpl.id(), H5FD_MPIO_COLLECTIVE);
  return dxpl;
}

template <class T>
void File::write_rows(const std::string& name, hsize_t row_begin, hsize_t rows, const T* data) {
  auto ds = open_dataset(name);
  Handle space(H5Dget_space(ds.id()), H5Sclose);
  Dims d(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space.id())));
  H5Sget_simple_extent_dims(space.id(), d.data(), nullptr);
  if (d.empty() || row_begin + rows > d[0]) fail("row block out of range for '" + name + "'");
  Dims start(d.size(), 0), count = d;
  start[0] = row_begin;
  count[0] = rows;
  Handle mem(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
  if (rows == 0) {
    H5Sselect_none(space.id());
    H5Sselect_none(mem.id());
  } else {
    H5Sselect_hyperslab(space.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  }
  auto dxpl = xfer_collective();
  if (H5Dwrite(ds.id(), h5_type<T>(), mem.id(), space.id(), dxpl.id(), data) < 0)
    fail("write failed for '" + name + "'");
}

template <class T>
void File::write_row_list(const std::string& name, std::span<const hsize_t> rows, const T* data) {
  auto ds = open_dataset(name);
  Handle space(H5Dget_space(ds.id()), H5Sclose);
  Dims d(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space.id())));
  H5Sget_simple_extent_dims(space.id(), d.data(), nullptr);
  Dims count = d;
  count[0] = rows.size();
  Handle mem(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
  H5Sselect_none(space.id());
  if (rows.empty()) H5Sselect_none(mem.id());
  // Runs of consecutive rows become one hyperslab each; the union is traversed in file order,
  // which is the order of `data` because `rows` ascends.
  std::size_t i = 0;
  while (i < rows.size()) {
    std::size_t j = i + 1;
    while (j < rows.size() && rows[j] == rows[j - 1] + 1) ++j;
    if (rows[i] >= d[0] || rows[j - 1] >= d[0] || (i > 0 && rows[i] <= rows[i - 1]))
      fail("row list not ascending or out of range for '" + name + "'");
    Dims start(d.size(), 0), block = d;
    start[0] = rows[i];
    block[0] = j - i;
    H5Sselect_hyperslab(space.id(), H5S_SELECT_OR, start.data(), nullptr, block.data(), nullptr);
    i = j;
  }
  auto dxpl = xfer_collective();
  if (H5Dwrite(ds.id(), h5_type<T>(), mem.id(), space.id(), dxpl.id(), data) < 0)
    fail("write failed for '" + name + "'");
}

template <class T>
void File::write_all_from_root(const std::string& name, std::span<const T> values, bool is_root) {
  const auto d = dims(name);
  write_rows<T>(name, 0, is_root ? d.at(0) : 0, values.data());
}

void File::write_strings_from_root(const std::string& name, const std::vector<std::string>& values,
                                   bool is_root) {
  auto ds = open_dataset(name);
  Handle type(H5Dget_type(ds.id()), H5Tclose);
  const std::size_t width = H5Tget_size(type.id());
  std::vector<char> buf;
  if (is_root) {
    buf.assign(values.size() * width, '\0');
    for (std::size_t i = 0; i < values.size(); ++i)
      values[i].copy(buf.data() + i * width, std::min(width, values[i].size()));
  }
  Handle space(H5Dget_space(ds.id()), H5Sclose);
  hsize_t n = is_root ? values.size() : 0;
  Handle mem(H5Screate_simple(1, &n, nullptr), H5Sclose);
  if (!is_root) {
    H5Sselect_none(space.id());
    H5Sselect_none(mem.id());
  }
  auto dxpl = xfer_collective();
  if (H5Dwrite(ds.id(), type.id(), mem.id(), space.id(), dxpl.id(), buf.data()) < 0)
    fail("write failed for '" + name + "'");
}

template <class T>
void File::read_rows(const std::string& name, hsize_t row_begin, hsize_t rows, T* out) const {
  auto ds = open_dataset(name);
  Handle space(H5Dget_space(ds.id()), H5Sclose);
  Dims d(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space.id())));
  H5Sget_simple_extent_dims(space.id(), d.data(), nullptr);
  if (d.empty() || row_begin + rows > d[0])
    fail("rows [" + std::to_string(row_begin) + ", " + std::to_string(row_begin + rows) +
         ") out of range for '" + name + "' with " + std::to_string(d.empty() ? 0 : d[0]) + " rows");
  if (rows == 0) return;
  Dims start(d.size(), 0), count = d;
  start[0] = row_begin;
  count[0] = rows;
  H5Sselect_hyperslab(space.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  Handle mem(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
  if (H5Dread(ds.id(), h5_type<T>(), mem.id(), space.id(), H5P_DEFAULT, out) < 0)
    fail("read failed for '" + name + "'");
}

template <class T>
std::vector<T> File::read_all(const std::string& name) const {
  const auto d = dims(name);
  const hsize_t total = std::accumulate(d.begin(), d.end(), hsize_t{1}, std::multiplies<>());
  std::vector<T> out(total);
  if (d.empty()) {
    auto ds = open_dataset(name);
    if (H5Dread(ds.id(), h5_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
      fail("read failed for '" + name + "'");
    return out;
  }
  read_rows<T>(name, 0, d[0], out.data());
  return out;
}

std::vector<std::string> File::read_strings(const std::string& name) const {
  auto ds = open_dataset(name);
  Handle type(H5Dget_type(ds.id()), H5Tclose);
  if (H5Tget_class(type.id()) != H5T_STRING) fail("dataset '" + name + "' is not a string dataset");
  if (H5Tis_variable_str(type.id()) > 0) fail("dataset '" + name + "' has variable-length strings");
  const std::size_t width = H5Tget_size(type.id());
  const auto n = dims(name).at(0);
  std::vector<char> buf(n * width);
  if (n > 0 && H5Dread(ds.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
    fail("read failed for '" + name + "'");
  std::vector<std::string> out(n);
  for (hsize_t i = 0; i < n; ++i) {
    const char* s = buf.data() + i * width;
    out[i].assign(s, strnlen(s, width));
  }
  return out;
}

namespace {
Handle open_object(hid_t file, const std::string& object) {
  return Handle(H5Oopen(file, object.c_str(), H5P_DEFAULT), H5Oclose);
}
}  // namespace

bool File::has_attr(const std::string& key, const std::string& object) const {
  auto obj = open_object(file_.id(), object);
  return obj && H5Aexists(obj.id(), key.c_str()) > 0;
}

void File::set_attr(const std::string& key, const std::string& value, const std::string& object) {
  auto obj = open_object(file_.id(), object);
  if (!obj) fail("no object '" + object + "' for attribute '" + key + "'");
  if (H5Aexists(obj.id(), key.c_str()) > 0) H5Adelete(obj.id(), key.c_str());
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.id(), std::max<std::size_t>(value.size(), 1));
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(obj.id(), key.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  std::string padded = value.empty() ? std::string(1, '\0') : value;
  if (!attr || H5Awrite(attr.id(), type.id(), padded.data()) < 0)
    fail("cannot write attribute '" + key + "'");
}

namespace {
template <class T>
void set_numeric_attr(hid_t file, const std::string& object, const std::string& key, T value,
                      hid_t type, const std::function<void(const std::string&)>& fail) {
  auto obj = open_object(file, object);
  if (!obj) fail("no object '" + object + "' for attribute '" + key + "'");
  if (H5Aexists(obj.id(), key.c_str()) > 0) H5Adelete(obj.id(), key.c_str());
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(obj.id(), key.c_str(), type, space.id(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr || H5Awrite(attr.id(), type, &value) < 0) fail("cannot write attribute '" + key + "'");
}
}  // namespace

void File::set_attr(const std::string& key, std::int64_t value, const std::string& object) {
  set_numeric_attr(file_.id(), object, key, value, H5T_NATIVE_INT64, [this](const std::string& m) { fail(m); });
}
void File::set_attr(const std::string& key, double value, const std::string& object) {
  set_numeric_attr(file_.id(), object, key, value, H5T_NATIVE_DOUBLE, [this](const std::string& m) { fail(m); });
}

std::string File::attr_string(const std::string& key, const std::string& object) const {
  auto obj = open_object(file_.id(), object);
  if (!obj || H5Aexists(obj.id(), key.c_str()) <= 0) fail("missing attribute '" + key + "' on " + object);
  Handle attr(H5Aopen(obj.id(), key.c_str(), H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.id()), H5Tclose);
  if (H5Tget_class(type.id()) != H5T_STRING) fail("attribute '" + key + "' is not a string");
  std::string out(H5Tget_size(type.id()), '\0');
  Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(mem.id(), out.size());
  H5Aread(attr.id(), mem.id(), out.data());
  out.resize(strnlen(out.data(), out.size()));
  return out;
}

std::int64_t File::attr_int(const std::string& key, const std::string& object) const {
  auto obj = open_object(file_.id(), object);
  if (!obj || H5Aexists(obj.id(), key.c_str()) <= 0) fail("missing attribute '" + key + "' on " + object);
  Handle attr(H5Aopen(obj.id(), key.c_str(), H5P_DEFAULT), H5Aclose);
  std::int64_t v = 0;
  H5Aread(attr.id(), H5T_NATIVE_INT64, &v);
  return v;
}

void File::flush() { H5Fflush(file_.id(), H5F_SCOPE_GLOBAL); }

#define CFMA_STORE_INSTANTIATE(T)                                                              \
  template void File::create<T>(const std::string&, const Dims&, const Dims&);                \
  template void File::write_rows<T>(const std::string&, hsize_t, hsize_t, const T*);           \
  template void File::write_row_list<T>(const std::string&, std::span<const hsize_t>, const T*); \
  template void File::write_all_from_root<T>(const std::string&, std::span<const T>, bool);    \
  template void File::read_rows<T>(const std::string&, hsize_t, hsize_t, T*) const;            \
  template std::vector<T> File::read_all<T>(const std::string&) const;
CFMA_STORE_INSTANTIATE(float)
CFMA_STORE_INSTANTIATE(double)
CFMA_STORE_INSTANTIATE(std::int32_t)
CFMA_STORE_INSTANTIATE(std::int64_t)
CFMA_STORE_INSTANTIATE(std::uint8_t)
#undef CFMA_STORE_INSTANTIATE

}  // namespace cfma::store
