#pragma once
// Thin RAII layer over the HDF5 C API for cfma's stores. Files are opened with the MPI-IO
// driver on a communicator; row-block writes are collective (every rank calls, each with its
// own block, possibly empty). Datasets are addressed by path ("/mel_db", "/hand/rms").
// Only fixed-length strings are used, because parallel HDF5 cannot write variable-length data.
//
// Failures on a parallel file: every collective call first agrees that every rank is ready
// (its own checks passed), then agrees on the call's outcome, so all ranks throw the same
// StoreError together and close the file together; no rank is left inside a collective. A
// failed HDF5 call's message keeps HDF5's innermost cause (e.g. the MPI-IO write's errno).
#include <hdf5.h>
#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace cfma::store {

class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) { reset(); id_ = o.id_; close_ = o.close_; o.id_ = -1; }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t id() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }
  void reset();
  // Gives up ownership without closing.
  hid_t release() { const hid_t id = id_; id_ = -1; return id; }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

using Dims = std::vector<hsize_t>;

template <class T> hid_t h5_type();

class File {
 public:
  File() = default;
  File(File&&) noexcept = default;
  File& operator=(File&&) noexcept = default;
  // Closes the file if still open (status ignored: call close() to check it). A parallel file
  // destroyed while this rank unwinds from an error the other ranks may not share is abandoned
  // rather than closed collectively (par::note_unclosed_hdf5_file).
  ~File();
  // Collective over `comm`: creates (truncates) `path`.
  static File create(const std::filesystem::path& path, MPI_Comm comm);
  // Collective over `comm`: opens read-only, or read-write.
  static File open(const std::filesystem::path& path, MPI_Comm comm, bool writable = false);
  // Serial read-only open (no MPI needed): for tools, tests and the report.
  static File open_serial(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  hid_t id() const { return file_.id(); }
  bool parallel() const { return parallel_; }

  bool exists(const std::string& name) const;
  Dims dims(const std::string& name) const;  // throws StoreError naming file and dataset
  void create_group(const std::string& name);
  // Collective: creates a dataset of element type T (chunk empty -> contiguous).
  template <class T>
  void create(const std::string& name, const Dims& dims, const Dims& chunk = {});
  void create_strings(const std::string& name, hsize_t count, std::size_t width);

  // Collective: rank writes rows [row_begin, row_begin + rows) of the first dimension; `data`
  // holds rows * (product of the other dims) elements.
  template <class T>
  void write_rows(const std::string& name, hsize_t row_begin, hsize_t rows, const T* data);
  // Collective: rank writes the rows listed in `rows` (strictly ascending; may be empty), `data`
  // holding them in that order.
  template <class T>
  void write_row_list(const std::string& name, std::span<const hsize_t> rows, const T* data);
  // Collective: the root's whole `values` becomes the dataset; other ranks pass nothing.
  template <class T>
  void write_all_from_root(const std::string& name, std::span<const T> values, bool is_root);
  void write_strings_from_root(const std::string& name, const std::vector<std::string>& values,
                               bool is_root);

  // Independent reads (no collective needed).
  template <class T>
  void read_rows(const std::string& name, hsize_t row_begin, hsize_t rows, T* out) const;
  template <class T>
  std::vector<T> read_all(const std::string& name) const;
  std::vector<std::string> read_strings(const std::string& name) const;

  // Attributes on the file root (or on an object path).
  void set_attr(const std::string& key, const std::string& value, const std::string& object = "/");
  void set_attr(const std::string& key, std::int64_t value, const std::string& object = "/");
  void set_attr(const std::string& key, double value, const std::string& object = "/");
  std::string attr_string(const std::string& key, const std::string& object = "/") const;
  std::int64_t attr_int(const std::string& key, const std::string& object = "/") const;
  double attr_double(const std::string& key, const std::string& object = "/") const;
  bool has_attr(const std::string& key, const std::string& object = "/") const;

  // Collective on a parallel file. A failed flush or close throws: the caller must not rename
  // the file into place or write its manifest.
  void flush();
  void close();

 private:
  [[noreturn]] void fail(const std::string& what) const;
  // fail() with HDF5's cause appended (the innermost error of the current error stack).
  [[noreturn]] void fail_h5(const std::string& what) const;
  // Runs `step` (which may throw) and, on a parallel file, agrees on its outcome with every
  // rank of the file's communicator: all ranks throw the lowest failing rank's message.
  template <class F> void agreed(F&& step) const;
  // agreed() for the collective open or create itself.
  template <class F> void agreed_open(F&& step);
  Handle open_dataset(const std::string& name) const;
  Handle xfer_collective() const;

  std::filesystem::path path_;
  Handle file_;
  bool parallel_ = false;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int uncaught_at_open_ = 0;  // std::uncaught_exceptions() when opened
};

// HDF5's innermost error on the current error stack as text ("" when the stack is empty),
// e.g. "file write failed ... errno = 28, error message = 'No space left on device'"; clears
// the stack.
std::string hdf5_error_cause();

// Silences HDF5's own error stack printing; cfma reports errors itself (once per process).
void quiet_hdf5_errors();

}  // namespace cfma::store
