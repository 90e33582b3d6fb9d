#include "cfma/store/h5.hpp"

#include <cstring>
#include <sys/statvfs.h>

#include <fmt/format.h>
#include <functional>
#include <numeric>

#include <boost/mpi/communicator.hpp>
#include <exception>

#include "cfma/core/error.hpp"
#include "cfma/par/world.hpp"

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

namespace {
herr_t keep_innermost(unsigned n, const H5E_error2_t* err, void* out) {
  if (n != 0) return 0;  // walked upward: entry 0 is where the failure happened
  auto& text = *static_cast<std::string*>(out);
  text = err->desc ? err->desc : "";
  char minor[128] = "";
  if (H5Eget_msg(err->min_num, nullptr, minor, sizeof minor) > 0 && text.find(minor) == std::string::npos)
    text = text.empty() ? minor : std::string(minor) + ": " + text;
  return 0;
}
}  // namespace

std::string hdf5_error_cause() {
  std::string cause;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &cause);
  H5Eclear2(H5E_DEFAULT);
  return cause;
}

void File::fail(const std::string& what) const {
  throw StoreError(path_.string() + ": " + what);
}

namespace {
// HDF5's MPI-IO driver reports a failed write without errno; the usual reason, a full file
// system, is told from the free space left where the file lives.
std::string free_space_note(const std::filesystem::path& path) {
  struct statvfs fs {};
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (::statvfs(dir.c_str(), &fs) != 0) return {};
  const double free_bytes = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
  if (free_bytes >= 64.0 * 1024 * 1024) return {};
  return fmt::format("; its file system has {:.1f} MiB free (disk full?)", free_bytes / (1024.0 * 1024.0));
}
}  // namespace

void File::fail_h5(const std::string& what) const {
  const auto cause = hdf5_error_cause();
  const auto space = free_space_note(path_);
  if (cause.empty() && space.empty()) fail(what);
  fail(what + " (" + (cause.empty() ? "HDF5 gave no cause" : "HDF5: " + cause) + space + ")");
}

template <class F>
void File::agreed(F&& step) const {
  std::string error;
  try {
    step();
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (parallel_) {
    int size = 1;
    MPI_Comm_size(comm_, &size);
    if (size > 1) {
      const boost::mpi::communicator comm(comm_, boost::mpi::comm_attach);
      if (auto message = par::agreed_error(comm, error); !message.empty()) throw StoreError(message);
      return;
    }
  }
  if (!error.empty()) throw StoreError(error);
}

template <class F>
void File::agreed_open(F&& step) {
  try {
    agreed(std::forward<F>(step));
  } catch (const StoreError&) {
    // Some rank failed to open: the ranks that did open cannot close collectively (the others
    // hold no file), so they abandon it.
    if (file_) {
      file_.release();
      par::note_unclosed_hdf5_file();
    }
    throw;
  }
}

File::~File() {
  if (!file_) return;
  if (parallel_ && std::uncaught_exceptions() > uncaught_at_open_ && !par::unwinding_agreed_failure()) {
    // This rank fails alone: the others may be inside a collective call, so a collective close
    // would hang. Leave the file open; the CLI aborts the job after printing the error.
    file_.release();
    par::note_unclosed_hdf5_file();
    return;
  }
  if (H5Fclose(file_.release()) < 0) par::note_unclosed_hdf5_file();
}

void File::close() {
  if (!file_) return;
  agreed([&] {
    if (H5Fclose(file_.release()) < 0) {
      // HDF5 keeps a half-closed file that crashes its own shutdown (MPI_Finalize, exit).
      par::note_unclosed_hdf5_file();
      fail_h5("closing the file failed");
    }
  });
}

void File::flush() {
  agreed([&] {
    if (H5Fflush(file_.id(), H5F_SCOPE_GLOBAL) < 0) fail_h5("flushing the file failed");
  });
}

namespace {
// "<path>: <what> (HDF5: <cause>)", the cause taken from (and cleared off) HDF5's error stack.
[[noreturn]] void throw_with_cause(const std::filesystem::path& path, const std::string& what) {
  const auto cause = hdf5_error_cause();
  throw StoreError(path.string() + ": " + what + (cause.empty() ? "" : " (HDF5: " + cause + ")"));
}
Handle checked(hid_t id, herr_t (*close)(hid_t), const char* what, const std::filesystem::path& path) {
  if (id < 0) throw_with_cause(path, std::string(what) + " failed");
  return Handle(id, close);
}
void check(herr_t status, const char* what, const std::filesystem::path& path) {
  if (status < 0) throw_with_cause(path, std::string(what) + " failed");
}
Handle mpio_fapl(MPI_Comm comm, const std::filesystem::path& path) {
  auto fapl = checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "H5Pcreate(file access)", path);
  check(H5Pset_fapl_mpio(fapl.id(), comm, MPI_INFO_NULL), "H5Pset_fapl_mpio", path);
  return fapl;
}
}  // namespace

File File::create(const std::filesystem::path& path, MPI_Comm comm) {
  quiet_hdf5_errors();
  File f;
  f.path_ = path;
  f.parallel_ = true;
  f.comm_ = comm;
  // H5Fcreate is collective: every rank calls it, each learns the others' outcome after.
  f.agreed_open([&] {
    auto fapl = mpio_fapl(comm, path);
    const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id());
    if (id < 0) f.fail_h5("cannot create HDF5 file");
    f.file_ = Handle(id, H5Fclose);
  });
  f.uncaught_at_open_ = std::uncaught_exceptions();
  return f;
}

File File::open(const std::filesystem::path& path, MPI_Comm comm, bool writable) {
  quiet_hdf5_errors();
  File f;
  f.path_ = path;
  f.parallel_ = true;
  f.comm_ = comm;
  std::string missing;
  if (!std::filesystem::exists(path)) missing = path.string() + ": no such file";
  f.agreed([&] { if (!missing.empty()) throw StoreError(missing); });
  f.agreed_open([&] {
    auto fapl = mpio_fapl(comm, path);
    const hid_t id = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.id());
    if (id < 0) f.fail_h5("cannot open as HDF5 (damaged or not an HDF5 file)");
    f.file_ = Handle(id, H5Fclose);
  });
  f.uncaught_at_open_ = std::uncaught_exceptions();
  return f;
}

File File::open_serial(const std::filesystem::path& path) {
  quiet_hdf5_errors();
  File f;
  f.path_ = path;
  if (!std::filesystem::exists(path)) f.fail("no such file");
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) f.fail_h5("cannot open as HDF5 (damaged or not an HDF5 file)");
  f.file_ = Handle(id, H5Fclose);
  f.uncaught_at_open_ = std::uncaught_exceptions();
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
  if (id < 0) fail_h5("cannot open dataset '" + name + "'");
  return Handle(id, H5Dclose);
}

namespace {
Dims extent(hid_t space, const std::string& name, const std::filesystem::path& path) {
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) check(rank, ("reading the shape of '" + name + "'").c_str(), path);
  Dims d(static_cast<std::size_t>(rank));
  if (rank > 0) check(H5Sget_simple_extent_dims(space, d.data(), nullptr), ("reading the shape of '" + name + "'").c_str(), path);
  return d;
}
}  // namespace

Dims File::dims(const std::string& name) const {
  auto ds = open_dataset(name);
  auto space = checked(H5Dget_space(ds.id()), H5Sclose, "H5Dget_space", path_);
  return extent(space.id(), name, path_);
}

void File::create_group(const std::string& name) {
  agreed([&] {
    if (exists(name)) return;
    Handle g(H5Gcreate2(file_.id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    if (!g) fail_h5("cannot create group '" + name + "'");
  });
}

namespace {
Handle link_props(const std::filesystem::path& path) {
  auto lcpl = checked(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "H5Pcreate(link create)", path);
  check(H5Pset_create_intermediate_group(lcpl.id(), 1), "H5Pset_create_intermediate_group", path);
  return lcpl;
}
}  // namespace

template <class T>
void File::create(const std::string& name, const Dims& dims, const Dims& chunk) {
  agreed([&] {
    auto space = checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                         "H5Screate_simple", path_);
    auto dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "H5Pcreate(dataset create)", path_);
    const bool empty = std::accumulate(dims.begin(), dims.end(), hsize_t{1}, std::multiplies<>()) == 0;
    if (!chunk.empty() && !empty)
      check(H5Pset_chunk(dcpl.id(), static_cast<int>(chunk.size()), chunk.data()), "H5Pset_chunk", path_);
    // Never write fill values: every element is written by exactly one rank.
    check(H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_NEVER), "H5Pset_fill_time", path_);
    check(H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY), "H5Pset_alloc_time", path_);
    auto lcpl = link_props(path_);
    Handle ds(H5Dcreate2(file_.id(), name.c_str(), h5_type<T>(), space.id(), lcpl.id(), dcpl.id(), H5P_DEFAULT),
              H5Dclose);
    if (!ds) fail_h5("cannot create dataset '" + name + "'");
  });
}

void File::create_strings(const std::string& name, hsize_t count, std::size_t width) {
  agreed([&] {
    auto type = checked(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy", path_);
    check(H5Tset_size(type.id(), std::max<std::size_t>(width, 1)), "H5Tset_size", path_);
    check(H5Tset_strpad(type.id(), H5T_STR_NULLPAD), "H5Tset_strpad", path_);
    auto space = checked(H5Screate_simple(1, &count, nullptr), H5Sclose, "H5Screate_simple", path_);
    auto dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "H5Pcreate(dataset create)", path_);
    check(H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY), "H5Pset_alloc_time", path_);
    auto lcpl = link_props(path_);
    Handle ds(H5Dcreate2(file_.id(), name.c_str(), type.id(), space.id(), lcpl.id(), dcpl.id(), H5P_DEFAULT),
              H5Dclose);
    if (!ds) fail_h5("cannot create dataset '" + name + "'");
  });
}

Handle File::xfer_collective() const {
  auto dxpl = checked(H5Pcreate(H5P_DATASET_XFER), H5Pclose, "H5Pcreate(transfer)", path_);
  if (parallel_) check(H5Pset_dxpl_mpio(dxpl.id(), H5FD_MPIO_COLLECTIVE), "H5Pset_dxpl_mpio", path_);
  return dxpl;
}

namespace {
// What a collective write needs, prepared (and checked) before any rank enters H5Dwrite.
struct WritePlan {
  Handle dataset, file_space, mem_space, dxpl, type;
};
}  // namespace

template <class T>
void File::write_rows(const std::string& name, hsize_t row_begin, hsize_t rows, const T* data) {
  WritePlan plan;
  agreed([&] {
    plan.dataset = open_dataset(name);
    plan.file_space = checked(H5Dget_space(plan.dataset.id()), H5Sclose, "H5Dget_space", path_);
    const auto d = extent(plan.file_space.id(), name, path_);
    if (d.empty() || row_begin + rows > d[0]) fail("row block out of range for '" + name + "'");
    Dims start(d.size(), 0), count = d;
    start[0] = row_begin;
    count[0] = rows;
    plan.mem_space = checked(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose,
                             "H5Screate_simple", path_);
    if (rows == 0) {
      check(H5Sselect_none(plan.file_space.id()), "H5Sselect_none", path_);
      check(H5Sselect_none(plan.mem_space.id()), "H5Sselect_none", path_);
    } else {
      check(H5Sselect_hyperslab(plan.file_space.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
            "H5Sselect_hyperslab", path_);
    }
    plan.dxpl = xfer_collective();
  });
  agreed([&] {
    if (H5Dwrite(plan.dataset.id(), h5_type<T>(), plan.mem_space.id(), plan.file_space.id(), plan.dxpl.id(), data) < 0)
      fail_h5("write failed for '" + name + "'");
  });
}

template <class T>
void File::write_row_list(const std::string& name, std::span<const hsize_t> rows, const T* data) {
  WritePlan plan;
  agreed([&] {
    plan.dataset = open_dataset(name);
    plan.file_space = checked(H5Dget_space(plan.dataset.id()), H5Sclose, "H5Dget_space", path_);
    const auto d = extent(plan.file_space.id(), name, path_);
    if (d.empty()) fail("row list for the scalar dataset '" + name + "'");
    Dims count = d;
    count[0] = rows.size();
    plan.mem_space = checked(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose,
                             "H5Screate_simple", path_);
    check(H5Sselect_none(plan.file_space.id()), "H5Sselect_none", path_);
    if (rows.empty()) check(H5Sselect_none(plan.mem_space.id()), "H5Sselect_none", path_);
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
      check(H5Sselect_hyperslab(plan.file_space.id(), H5S_SELECT_OR, start.data(), nullptr, block.data(), nullptr),
            "H5Sselect_hyperslab", path_);
      i = j;
    }
    plan.dxpl = xfer_collective();
  });
  agreed([&] {
    if (H5Dwrite(plan.dataset.id(), h5_type<T>(), plan.mem_space.id(), plan.file_space.id(), plan.dxpl.id(), data) < 0)
      fail_h5("write failed for '" + name + "'");
  });
}

template <class T>
void File::write_all_from_root(const std::string& name, std::span<const T> values, bool is_root) {
  hsize_t rows = 0;
  agreed([&] {
    const auto d = dims(name);
    if (d.empty()) fail("dataset '" + name + "' is a scalar");
    const hsize_t row_size = std::accumulate(d.begin() + 1, d.end(), hsize_t{1}, std::multiplies<>());
    if (is_root && values.size() != d[0] * row_size)
      fail("'" + name + "' holds " + std::to_string(d[0] * row_size) + " values, given " + std::to_string(values.size()));
    rows = is_root ? d[0] : 0;
  });
  write_rows<T>(name, 0, rows, values.data());
}

void File::write_strings_from_root(const std::string& name, const std::vector<std::string>& values,
                                   bool is_root) {
  WritePlan plan;
  std::vector<char> buf;
  agreed([&] {
    plan.dataset = open_dataset(name);
    plan.type = checked(H5Dget_type(plan.dataset.id()), H5Tclose, "H5Dget_type", path_);
    const std::size_t width = H5Tget_size(plan.type.id());
    if (width == 0) fail_h5("reading the string width of '" + name + "'");
    if (is_root) {
      buf.assign(values.size() * width, '\0');
      for (std::size_t i = 0; i < values.size(); ++i)
        values[i].copy(buf.data() + i * width, std::min(width, values[i].size()));
    }
    plan.file_space = checked(H5Dget_space(plan.dataset.id()), H5Sclose, "H5Dget_space", path_);
    const auto d = extent(plan.file_space.id(), name, path_);
    if (is_root && (d.size() != 1 || d[0] != values.size()))
      fail("'" + name + "' holds " + std::to_string(d.empty() ? 0 : d[0]) + " strings, given " +
           std::to_string(values.size()));
    hsize_t n = is_root ? values.size() : 0;
    plan.mem_space = checked(H5Screate_simple(1, &n, nullptr), H5Sclose, "H5Screate_simple", path_);
    if (!is_root) {
      check(H5Sselect_none(plan.file_space.id()), "H5Sselect_none", path_);
      check(H5Sselect_none(plan.mem_space.id()), "H5Sselect_none", path_);
    }
    plan.dxpl = xfer_collective();
  });
  agreed([&] {
    if (H5Dwrite(plan.dataset.id(), plan.type.id(), plan.mem_space.id(), plan.file_space.id(), plan.dxpl.id(),
                 buf.data()) < 0)
      fail_h5("write failed for '" + name + "'");
  });
}

template <class T>
void File::read_rows(const std::string& name, hsize_t row_begin, hsize_t rows, T* out) const {
  auto ds = open_dataset(name);
  auto space = checked(H5Dget_space(ds.id()), H5Sclose, "H5Dget_space", path_);
  const auto d = extent(space.id(), name, path_);
  if (d.empty() || row_begin + rows > d[0])
    fail("rows [" + std::to_string(row_begin) + ", " + std::to_string(row_begin + rows) +
         ") out of range for '" + name + "' with " + std::to_string(d.empty() ? 0 : d[0]) + " rows");
  if (rows == 0) return;
  Dims start(d.size(), 0), count = d;
  start[0] = row_begin;
  count[0] = rows;
  check(H5Sselect_hyperslab(space.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
        "H5Sselect_hyperslab", path_);
  auto mem = checked(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose,
                     "H5Screate_simple", path_);
  if (H5Dread(ds.id(), h5_type<T>(), mem.id(), space.id(), H5P_DEFAULT, out) < 0)
    fail_h5("read failed for '" + name + "'");
}

template <class T>
std::vector<T> File::read_all(const std::string& name) const {
  const auto d = dims(name);
  const hsize_t total = std::accumulate(d.begin(), d.end(), hsize_t{1}, std::multiplies<>());
  std::vector<T> out(total);
  if (d.empty()) {
    auto ds = open_dataset(name);
    if (H5Dread(ds.id(), h5_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
      fail_h5("read failed for '" + name + "'");
    return out;
  }
  read_rows<T>(name, 0, d[0], out.data());
  return out;
}

std::vector<std::string> File::read_strings(const std::string& name) const {
  auto ds = open_dataset(name);
  auto type = checked(H5Dget_type(ds.id()), H5Tclose, "H5Dget_type", path_);
  if (H5Tget_class(type.id()) != H5T_STRING) fail("dataset '" + name + "' is not a string dataset");
  if (H5Tis_variable_str(type.id()) > 0) fail("dataset '" + name + "' has variable-length strings");
  const std::size_t width = H5Tget_size(type.id());
  if (width == 0) fail_h5("reading the string width of '" + name + "'");
  const auto d = dims(name);
  if (d.size() != 1) fail("dataset '" + name + "' is not a list of strings");
  const auto n = d[0];
  std::vector<char> buf(n * width);
  if (n > 0 && H5Dread(ds.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
    fail_h5("read failed for '" + name + "'");
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
  if (!obj) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  const htri_t exists = H5Aexists(obj.id(), key.c_str());
  if (exists < 0) fail_h5("checking attribute '" + key + "' on " + object);
  return exists > 0;
}

namespace {
// Writes a scalar attribute of `type` (replacing one of that name).
void write_attr(hid_t file, const std::string& object, const std::string& key, hid_t type, const void* value,
                const std::filesystem::path& path) {
  auto obj = open_object(file, object);
  if (!obj) {
    H5Eclear2(H5E_DEFAULT);
    throw StoreError(path.string() + ": no object '" + object + "' for attribute '" + key + "'");
  }
  const htri_t exists = H5Aexists(obj.id(), key.c_str());
  check(exists, "H5Aexists", path);
  if (exists > 0) check(H5Adelete(obj.id(), key.c_str()), "H5Adelete", path);
  auto space = checked(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate", path);
  Handle attr(H5Acreate2(obj.id(), key.c_str(), type, space.id(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr || H5Awrite(attr.id(), type, value) < 0) throw_with_cause(path, "cannot write attribute '" + key + "'");
}
}  // namespace

void File::set_attr(const std::string& key, const std::string& value, const std::string& object) {
  agreed([&] {
    auto type = checked(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy", path_);
    check(H5Tset_size(type.id(), std::max<std::size_t>(value.size(), 1)), "H5Tset_size", path_);
    const std::string padded = value.empty() ? std::string(1, '\0') : value;
    write_attr(file_.id(), object, key, type.id(), padded.data(), path_);
  });
}

void File::set_attr(const std::string& key, std::int64_t value, const std::string& object) {
  agreed([&] { write_attr(file_.id(), object, key, H5T_NATIVE_INT64, &value, path_); });
}

void File::set_attr(const std::string& key, double value, const std::string& object) {
  agreed([&] { write_attr(file_.id(), object, key, H5T_NATIVE_DOUBLE, &value, path_); });
}

std::string File::attr_string(const std::string& key, const std::string& object) const {
  if (!has_attr(key, object)) fail("missing attribute '" + key + "' on " + object);
  auto obj = open_object(file_.id(), object);
  auto attr = checked(H5Aopen(obj.id(), key.c_str(), H5P_DEFAULT), H5Aclose, "H5Aopen", path_);
  auto type = checked(H5Aget_type(attr.id()), H5Tclose, "H5Aget_type", path_);
  if (H5Tget_class(type.id()) != H5T_STRING) fail("attribute '" + key + "' is not a string");
  if (H5Tis_variable_str(type.id()) > 0) fail("attribute '" + key + "' is a variable-length string");
  std::string out(H5Tget_size(type.id()), '\0');
  auto mem = checked(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy", path_);
  check(H5Tset_size(mem.id(), std::max<std::size_t>(out.size(), 1)), "H5Tset_size", path_);
  if (H5Aread(attr.id(), mem.id(), out.data()) < 0) fail_h5("cannot read attribute '" + key + "'");
  out.resize(strnlen(out.data(), out.size()));
  return out;
}

std::int64_t File::attr_int(const std::string& key, const std::string& object) const {
  if (!has_attr(key, object)) fail("missing attribute '" + key + "' on " + object);
  auto obj = open_object(file_.id(), object);
  auto attr = checked(H5Aopen(obj.id(), key.c_str(), H5P_DEFAULT), H5Aclose, "H5Aopen", path_);
  std::int64_t v = 0;
  if (H5Aread(attr.id(), H5T_NATIVE_INT64, &v) < 0) fail_h5("cannot read attribute '" + key + "' as an integer");
  return v;
}

double File::attr_double(const std::string& key, const std::string& object) const {
  if (!has_attr(key, object)) fail("missing attribute '" + key + "' on " + object);
  auto obj = open_object(file_.id(), object);
  auto attr = checked(H5Aopen(obj.id(), key.c_str(), H5P_DEFAULT), H5Aclose, "H5Aopen", path_);
  double v = 0;
  if (H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &v) < 0) fail_h5("cannot read attribute '" + key + "' as a number");
  return v;
}

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
