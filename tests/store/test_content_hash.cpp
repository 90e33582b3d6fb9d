// Content digests of HDF5 files (store/content_hash.hpp): equal values give equal digests
// whatever the layout (chunking, object timestamps, creation order), a changed value or
// attribute changes the digest of its dataset and of the file, provenance attributes do not;
// compare_datasets finds the largest difference and its row.
#include <gtest/gtest.h>

#include <hdf5.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cfma/core/atomic_file.hpp"
#include "cfma/store/content_hash.hpp"
#include "tests/test_paths.hpp"

namespace cfma::store {
namespace {
namespace fs = std::filesystem;

struct Layout {
  bool chunked = false;
  bool track_times = false;
  bool reversed = false;  // create the datasets in the other order
};

// /values float32 [6, 4] = r * 10 + c (+ `bump` at [3, 2]), /group/labels int64 [6],
// attributes: "hop_length" (content) and "config_key" (provenance) on the root.
void write_h5(const fs::path& path, const Layout& layout, float bump = 0, const std::string& key = "abc",
                std::int64_t hop = 512) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(dcpl, layout.track_times ? 1 : 0);
  if (layout.chunked) {
    const hsize_t chunk[2] = {2, 4};
    H5Pset_chunk(dcpl, 2, chunk);
  }
  auto write_values = [&] {
    std::vector<float> v(24);
    for (int r = 0; r < 6; ++r)
      for (int c = 0; c < 4; ++c) v[static_cast<std::size_t>(r * 4 + c)] = static_cast<float>(r * 10 + c);
    v[3 * 4 + 2] += bump;
    const hsize_t dims[2] = {6, 4};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t d = H5Dcreate2(file, "/values", H5T_NATIVE_FLOAT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Dclose(d);
    H5Sclose(space);
  };
  auto write_labels = [&] {
    const hid_t group = H5Gcreate2(file, "/group", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const std::vector<std::int64_t> labels = {0, 1, 2, 0, 1, 2};
    const hsize_t dims[1] = {6};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t d = H5Dcreate2(group, "labels", H5T_NATIVE_INT64, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels.data());
    H5Dclose(d);
    H5Sclose(space);
    H5Gclose(group);
  };
  if (layout.reversed) {
    write_labels();
    write_values();
  } else {
    write_values();
    write_labels();
  }
  const hid_t scalar = H5Screate(H5S_SCALAR);
  const hid_t hop_attr = H5Acreate2(file, "hop_length", H5T_NATIVE_INT64, scalar, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(hop_attr, H5T_NATIVE_INT64, &hop);
  H5Aclose(hop_attr);
  const hid_t string_type = H5Tcopy(H5T_C_S1);
  H5Tset_size(string_type, key.size());
  const hid_t key_attr = H5Acreate2(file, "config_key", string_type, scalar, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(key_attr, string_type, key.data());
  H5Aclose(key_attr);
  H5Tclose(string_type);
  H5Sclose(scalar);
  H5Pclose(dcpl);
  H5Fclose(file);
}

TEST(ContentDigest, EqualValuesEqualDigestWhateverTheLayout) {
  const auto dir = test::scratch_dir("content-digest-layout");
  write_h5(dir / "a.h5", {});
  write_h5(dir / "b.h5", {true, true, true}, 0, "another key");  // chunked, timestamps, order, provenance
  const auto a = content_digest(dir / "a.h5"), b = content_digest(dir / "b.h5");
  EXPECT_NE(read_file(dir / "a.h5"), read_file(dir / "b.h5"));  // the bytes differ
  EXPECT_EQ(a.hash, b.hash);
  ASSERT_EQ(a.datasets.size(), 2u);
  EXPECT_EQ(a.datasets[0].name, "/group/labels");
  EXPECT_EQ(a.datasets[0].type, "int64");
  EXPECT_EQ(a.datasets[1].name, "/values");
  EXPECT_EQ(a.datasets[1].type, "float32");
  EXPECT_EQ(a.datasets[1].dims, (Dims{6, 4}));
  for (std::size_t k = 0; k < 2; ++k) EXPECT_EQ(a.datasets[k].hash, b.datasets[k].hash);
}

TEST(ContentDigest, ChangedValueOrContentAttributeChangesTheDigest) {
  const auto dir = test::scratch_dir("content-digest-change");
  write_h5(dir / "a.h5", {});
  write_h5(dir / "bumped.h5", {}, 0.5f);
  write_h5(dir / "hop.h5", {}, 0, "abc", 256);
  const auto a = content_digest(dir / "a.h5"), bumped = content_digest(dir / "bumped.h5"),
             hop = content_digest(dir / "hop.h5");
  EXPECT_NE(a.hash, bumped.hash);
  EXPECT_EQ(a.datasets[0].hash, bumped.datasets[0].hash);  // labels unchanged
  EXPECT_NE(a.datasets[1].hash, bumped.datasets[1].hash);
  EXPECT_NE(a.hash, hop.hash);  // a root attribute that is content, not provenance

  const auto fa = File::open_serial(dir / "a.h5"), fb = File::open_serial(dir / "bumped.h5");
  const auto d = compare_datasets(fa, fb, "/values");
  ASSERT_TRUE(d.comparable);
  EXPECT_DOUBLE_EQ(d.max_abs, 0.5);
  EXPECT_EQ(d.at, 3u * 4 + 2);
  EXPECT_EQ(d.row, 3u);
  EXPECT_DOUBLE_EQ(d.scale, 53.0);  // the largest |value| of the second file (row 5, column 3)
  const auto same = compare_datasets(fa, fa, "/group/labels");
  EXPECT_TRUE(same.comparable);
  EXPECT_EQ(same.max_abs, 0.0);
}

TEST(ContentDigest, DamagedFileNamesIt) {
  const auto dir = test::scratch_dir("content-digest-damaged");
  cfma::write_file(dir / "bad.h5", "not hdf5");
  try {
    content_digest(dir / "bad.h5");
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("bad.h5"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cfma::store
