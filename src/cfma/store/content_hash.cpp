#include "cfma/store/content_hash.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "cfma/core/error.hpp"
#include "cfma/core/hash.hpp"

namespace cfma::store {
namespace {

constexpr std::size_t kBlockBytes = std::size_t{64} << 20;

[[noreturn]] void fail(const File& f, const std::string& what) {
  const auto cause = hdf5_error_cause();
  throw StoreError(f.path().string() + ": " + what + (cause.empty() ? "" : " (HDF5: " + cause + ")"));
}

std::string type_name(hid_t type) {
  const auto size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(8 * size);
    case H5T_FLOAT: return "float" + std::to_string(8 * size);
    case H5T_STRING: return "string" + std::to_string(size);
    default: return "opaque" + std::to_string(size);
  }
}

// Values of a dataset or attribute in their native in-memory form: byte-equal for equal values.
Handle native_type_of(const File& f, hid_t file_type) {
  if (H5Tget_class(file_type) == H5T_STRING) return Handle(H5Tcopy(file_type), H5Tclose);
  const hid_t native = H5Tget_native_type(file_type, H5T_DIR_ASCEND);
  if (native < 0) fail(f, "cannot map a type to memory");
  return Handle(native, H5Tclose);
}

struct AttributeVisit {
  const File* file;
  Hasher* hasher;
};

// Provenance, not content: which config and upstream output produced the file, which build
// wrote it. Two studies at different workdirs or builds differ there and nowhere else.
bool provenance_attribute(std::string_view name) { return name.ends_with("_key") || name.ends_with("_version"); }

herr_t hash_attribute(hid_t loc, const char* name, const H5A_info_t*, void* data) {
  auto& visit = *static_cast<AttributeVisit*>(data);
  if (provenance_attribute(name)) return 0;
  const Handle attr(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
  if (!attr) return -1;
  const Handle type(H5Aget_type(attr.id()), H5Tclose);
  const Handle space(H5Aget_space(attr.id()), H5Sclose);
  const auto native = native_type_of(*visit.file, type.id());
  const auto points = static_cast<std::size_t>(std::max<hssize_t>(H5Sget_simple_extent_npoints(space.id()), 0));
  std::vector<unsigned char> bytes(points * H5Tget_size(native.id()));
  if (H5Aread(attr.id(), native.id(), bytes.data()) < 0) return -1;
  visit.hasher->text(name).text(type_name(type.id())).bytes(bytes.data(), bytes.size());
  return 0;
}

void hash_attributes(const File& f, hid_t object, const std::string& name, Hasher& h) {
  AttributeVisit visit{&f, &h};
  hsize_t index = 0;
  if (H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, hash_attribute, &visit) < 0)
    fail(f, name + ": cannot read its attributes");
}

struct Dataset {
  Handle id, type, space, native;
  Dims dims;
  std::size_t row_elements = 1, element_bytes = 0;
};

Dataset open_dataset(const File& f, const std::string& name) {
  Dataset d;
  d.id = Handle(H5Dopen2(f.id(), name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!d.id) fail(f, name + ": cannot open the dataset");
  d.type = Handle(H5Dget_type(d.id.id()), H5Tclose);
  d.space = Handle(H5Dget_space(d.id.id()), H5Sclose);
  d.native = native_type_of(f, d.type.id());
  const int rank = H5Sget_simple_extent_ndims(d.space.id());
  d.dims.assign(static_cast<std::size_t>(std::max(rank, 0)), 0);
  if (rank > 0) H5Sget_simple_extent_dims(d.space.id(), d.dims.data(), nullptr);
  for (std::size_t k = 1; k < d.dims.size(); ++k) d.row_elements *= d.dims[k];
  d.element_bytes = H5Tget_size(d.native.id());
  return d;
}

// Calls visit(first row, rows, buffer) for consecutive row blocks of the dataset, read as
// `memory_type` (elements of `element_bytes`).
void for_each_block(const File& f, const std::string& name, const Dataset& d, hid_t memory_type,
                    std::size_t element_bytes,
                    const std::function<void(hsize_t, hsize_t, const unsigned char*)>& visit) {
  if (d.dims.empty()) {  // scalar
    std::vector<unsigned char> one(element_bytes);
    if (H5Dread(d.id.id(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, one.data()) < 0) fail(f, name + ": read failed");
    visit(0, 1, one.data());
    return;
  }
  const hsize_t rows = d.dims[0];
  const std::size_t row_bytes = std::max<std::size_t>(d.row_elements * element_bytes, 1);
  const hsize_t block = std::max<hsize_t>(1, kBlockBytes / row_bytes);
  std::vector<unsigned char> buffer(static_cast<std::size_t>(std::min(block, std::max<hsize_t>(rows, 1))) * row_bytes);
  for (hsize_t begin = 0; begin < rows; begin += block) {
    const hsize_t count = std::min(block, rows - begin);
    Dims start(d.dims.size(), 0), extent = d.dims;
    start[0] = begin;
    extent[0] = count;
    const Handle file_space(H5Scopy(d.space.id()), H5Sclose);
    const Handle memory_space(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr), H5Sclose);
    if (!file_space || !memory_space ||
        H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, extent.data(), nullptr) < 0 ||
        H5Dread(d.id.id(), memory_type, memory_space.id(), file_space.id(), H5P_DEFAULT, buffer.data()) < 0)
      fail(f, name + ": read failed at row " + std::to_string(begin));
    visit(begin, count, buffer.data());
  }
}

struct ObjectVisit {
  const File* file;
  std::vector<std::string> datasets, groups;
};

herr_t collect_object(hid_t, const char* name, const H5O_info_t* info, void* data) {
  auto& visit = *static_cast<ObjectVisit*>(data);
  std::string path = "/";
  if (std::string_view(name) != ".") path += name;
  if (info->type == H5O_TYPE_DATASET) visit.datasets.push_back(path);
  else if (info->type == H5O_TYPE_GROUP) visit.groups.push_back(path);
  return 0;
}

bool numeric(const Dataset& d) {
  const auto c = H5Tget_class(d.type.id());
  return c == H5T_INTEGER || c == H5T_FLOAT;
}

}  // namespace

ContentDigest content_digest(const std::filesystem::path& path) {
  const auto f = File::open_serial(path);
  ObjectVisit objects{&f, {}, {}};
  if (H5Ovisit2(f.id(), H5_INDEX_NAME, H5_ITER_INC, collect_object, &objects, H5O_INFO_BASIC) < 0)
    fail(f, "cannot list its objects");
  std::sort(objects.datasets.begin(), objects.datasets.end());
  std::sort(objects.groups.begin(), objects.groups.end());
  ContentDigest digest;
  Hasher whole;
  for (const auto& group : objects.groups) {
    const Handle g(H5Oopen(f.id(), group.c_str(), H5P_DEFAULT), H5Oclose);
    if (!g) fail(f, group + ": cannot open the group");
    whole.text(group);
    hash_attributes(f, g.id(), group, whole);
  }
  for (const auto& name : objects.datasets) {
    const auto d = open_dataset(f, name);
    DatasetDigest entry{name, type_name(d.type.id()), d.dims, {}};
    Hasher h;
    h.text(name).text(entry.type);
    for (const auto n : d.dims) h.value(n);
    for_each_block(f, name, d, d.native.id(), d.element_bytes,
                   [&](hsize_t, hsize_t rows, const unsigned char* bytes) {
                     h.bytes(bytes, static_cast<std::size_t>(rows) * d.row_elements * d.element_bytes);
                   });
    hash_attributes(f, d.id.id(), name, h);
    entry.hash = h.hex();
    whole.text(entry.hash);
    digest.datasets.push_back(std::move(entry));
  }
  digest.hash = whole.hex();
  return digest;
}

DatasetDifference compare_datasets(const File& a, const File& b, const std::string& name) {
  DatasetDifference diff;
  const auto da = open_dataset(a, name), db = open_dataset(b, name);
  if (da.dims != db.dims) {
    diff.comparable = false;
    diff.why = "shapes differ";
    return diff;
  }
  if (!numeric(da) || !numeric(db)) {
    diff.comparable = false;
    diff.why = "not numeric";
    return diff;
  }
  // a is read block by block as float64, and the same rows of b beside it.
  std::vector<double> values_b;
  for_each_block(a, name, da, H5T_NATIVE_DOUBLE, sizeof(double), [&](hsize_t first, hsize_t rows, const unsigned char* bytes) {
    // Read the same rows of b.
    values_b.resize(static_cast<std::size_t>(rows) * db.row_elements);
    if (db.dims.empty()) {
      if (H5Dread(db.id.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values_b.data()) < 0)
        fail(b, name + ": read failed");
    } else {
      Dims start(db.dims.size(), 0), extent = db.dims;
      start[0] = first;
      extent[0] = rows;
      const Handle file_space(H5Scopy(db.space.id()), H5Sclose);
      const Handle memory_space(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr), H5Sclose);
      if (H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, extent.data(), nullptr) < 0 ||
          H5Dread(db.id.id(), H5T_NATIVE_DOUBLE, memory_space.id(), file_space.id(), H5P_DEFAULT, values_b.data()) < 0)
        fail(b, name + ": read failed at row " + std::to_string(first));
    }
    const auto* values_a = reinterpret_cast<const double*>(bytes);
    const std::uint64_t offset = static_cast<std::uint64_t>(first) * db.row_elements;
    for (std::size_t k = 0; k < values_b.size(); ++k) {
      const double x = values_a[k], y = values_b[k];
      diff.scale = std::max(diff.scale, std::isfinite(y) ? std::abs(y) : 0.0);
      const double d = (std::isnan(x) && std::isnan(y)) || x == y ? 0.0 : std::abs(x - y);
      if (!(d <= diff.max_abs)) {  // NaN against a number counts as the largest difference
        diff.max_abs = std::isnan(d) ? INFINITY : d;
        diff.at = offset + k;
        diff.row = db.row_elements ? diff.at / db.row_elements : 0;
      }
    }
  });
  return diff;
}

}  // namespace cfma::store
