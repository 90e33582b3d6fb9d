// Parallel HDF5 store at 1, 2 and 4 ranks: collective creates and writes (uneven and empty row
// blocks, non-contiguous row lists, root-only datasets, strings, attributes), read back value by
// value on every rank.
#include <gtest/gtest.h>

#include <boost/mpi/collectives.hpp>

#include "cfma/core/error.hpp"
#include "cfma/par/world.hpp"
#include "cfma/store/h5.hpp"
#include "tests/test_paths.hpp"

namespace {

using cfma::store::Dims;
using cfma::store::File;

constexpr hsize_t n_rows = 10;

// Rank 0 takes rows [0, 6), the last rank [6, 10), ranks in between nothing (size 1: all).
std::pair<hsize_t, hsize_t> uneven_block(int rank, int size) {
  if (size == 1) return {0, n_rows};
  if (rank == 0) return {0, 6};
  if (rank == size - 1) return {6, n_rows};
  return {6, 6};
}

float cell(hsize_t row, hsize_t i) { return static_cast<float>(row) * 100.0f + static_cast<float>(i) * 0.5f; }

double read_double_attr(const File& f, const std::string& key, const std::string& object) {
  const hid_t obj = H5Oopen(f.id(), object.c_str(), H5P_DEFAULT);
  const hid_t attr = H5Aopen(obj, key.c_str(), H5P_DEFAULT);
  double v = -1;
  H5Aread(attr, H5T_NATIVE_DOUBLE, &v);
  H5Aclose(attr);
  H5Oclose(obj);
  return v;
}

void write_sample(const std::filesystem::path& path) {
  auto& comm = cfma::par::World::comm();
  const bool root = comm.rank() == 0;
  auto file = File::create(path, MPI_Comm(comm));
  EXPECT_TRUE(file.parallel());
  file.create_group("/g");
  file.create<float>("/g/cube", {n_rows, 3, 2}, {4, 3, 2});
  file.create<double>("/dbl", {n_rows});
  file.create<std::int32_t>("/i32", {n_rows, 2}, {3, 2});
  file.create<std::uint8_t>("/u8", {n_rows});
  const auto [b, e] = uneven_block(comm.rank(), comm.size());
  std::vector<float> cube;
  std::vector<double> dbl;
  std::vector<std::int32_t> i32;
  std::vector<std::uint8_t> u8;
  for (hsize_t r = b; r < e; ++r) {
    for (hsize_t i = 0; i < 6; ++i) cube.push_back(cell(r, i));
    dbl.push_back(static_cast<double>(r) / 3.0);
    i32.push_back(static_cast<std::int32_t>(r) * -7);
    i32.push_back(static_cast<std::int32_t>(r) + 1000000);
    u8.push_back(static_cast<std::uint8_t>(250 + r % 6));
  }
  file.write_rows<float>("/g/cube", b, e - b, cube.data());
  file.write_rows<double>("/dbl", b, e - b, dbl.data());
  file.write_rows<std::int32_t>("/i32", b, e - b, i32.data());
  file.write_rows<std::uint8_t>("/u8", b, e - b, u8.data());

  // Row lists: rank r writes rows = r (mod size), ascending, non-contiguous; at 2+ ranks rank 1
  // writes nothing and rank 0 also takes its rows.
  constexpr hsize_t list_rows = 23;
  file.create<float>("/listed", {list_rows, 4}, {5, 4});
  std::vector<hsize_t> rows;
  std::vector<float> values;
  const int size = comm.size();
  for (hsize_t r = 0; r < list_rows; ++r) {
    int owner = static_cast<int>(r % static_cast<hsize_t>(size));
    if (size >= 2 && owner == 1) owner = 0;
    if (owner != comm.rank()) continue;
    rows.push_back(r);
    for (hsize_t c = 0; c < 4; ++c) values.push_back(cell(r, c) + 0.25f);
  }
  file.write_row_list<float>("/listed", rows, values.empty() ? nullptr : values.data());

  std::vector<std::int64_t> split;
  std::vector<std::string> names;
  if (root) {
    split = {9, 3, 4, 0};  // numpy order, as /split/test
    names = {"bass_synthetic_033-022-050", "x", "", "keyboard_acoustic_004-060-127"};
  }
  file.create<std::int64_t>("/split/test", {4});
  file.write_all_from_root<std::int64_t>("/split/test", split, root);
  file.create_strings("/labels/note_str", 4, 30);
  file.write_strings_from_root("/labels/note_str", names, root);

  file.set_attr("config_key", std::string("0123456789abcdef"));
  file.set_attr("n_examples", std::int64_t{-42});
  file.set_attr("ratio", 0.125);
  file.set_attr("reduce", std::string("avgpool2"), "/g/cube");
  file.set_attr("rows", std::int64_t{10}, "/g/cube");
}

void check_sample(const File& file) {
  EXPECT_TRUE(file.exists("/g/cube"));
  EXPECT_TRUE(file.exists("/g"));
  EXPECT_FALSE(file.exists("/g/absent"));
  EXPECT_FALSE(file.exists("/absent/deeper"));
  EXPECT_EQ(file.dims("/g/cube"), (Dims{n_rows, 3, 2}));
  const auto cube = file.read_all<float>("/g/cube");
  ASSERT_EQ(cube.size(), n_rows * 6);
  for (hsize_t r = 0; r < n_rows; ++r)
    for (hsize_t i = 0; i < 6; ++i) EXPECT_EQ(cube[r * 6 + i], cell(r, i)) << "row " << r;
  std::vector<float> part(3 * 6);
  file.read_rows<float>("/g/cube", 5, 3, part.data());  // across the rank boundary at 6
  for (hsize_t r = 0; r < 3; ++r)
    for (hsize_t i = 0; i < 6; ++i) EXPECT_EQ(part[r * 6 + i], cell(r + 5, i));
  const auto dbl = file.read_all<double>("/dbl");
  const auto i32 = file.read_all<std::int32_t>("/i32");
  const auto u8 = file.read_all<std::uint8_t>("/u8");
  ASSERT_EQ(dbl.size(), n_rows);
  ASSERT_EQ(i32.size(), 2 * n_rows);
  ASSERT_EQ(u8.size(), n_rows);
  for (hsize_t r = 0; r < n_rows; ++r) {
    EXPECT_EQ(dbl[r], static_cast<double>(r) / 3.0);
    EXPECT_EQ(i32[2 * r], static_cast<std::int32_t>(r) * -7);
    EXPECT_EQ(i32[2 * r + 1], static_cast<std::int32_t>(r) + 1000000);
    EXPECT_EQ(u8[r], static_cast<std::uint8_t>(250 + r % 6));
  }
  const auto listed = file.read_all<float>("/listed");
  ASSERT_EQ(listed.size(), 23u * 4);
  for (hsize_t r = 0; r < 23; ++r)
    for (hsize_t c = 0; c < 4; ++c) EXPECT_EQ(listed[r * 4 + c], cell(r, c) + 0.25f) << "row " << r;
  EXPECT_EQ(file.read_all<std::int64_t>("/split/test"), (std::vector<std::int64_t>{9, 3, 4, 0}));
  EXPECT_EQ(file.read_strings("/labels/note_str"),
            (std::vector<std::string>{"bass_synthetic_033-022-050", "x", "", "keyboard_acoustic_004-060-127"}));
  EXPECT_EQ(file.attr_string("config_key"), "0123456789abcdef");
  EXPECT_EQ(file.attr_int("n_examples"), -42);
  EXPECT_EQ(read_double_attr(file, "ratio", "/"), 0.125);
  EXPECT_EQ(file.attr_string("reduce", "/g/cube"), "avgpool2");
  EXPECT_EQ(file.attr_int("rows", "/g/cube"), 10);
  EXPECT_TRUE(file.has_attr("reduce", "/g/cube"));
  EXPECT_FALSE(file.has_attr("reduce"));
}

TEST(StoreMpi, CollectiveWritesReadBackOnEveryRank) {
  auto& comm = cfma::par::World::comm();
  const auto path = cfma::test::scratch_dir("store-mpi-collective") / "sample.h5";
  write_sample(path);  // closed (collectively) on return
  comm.barrier();
  {
    const auto file = File::open(path, MPI_Comm(comm));
    check_sample(file);
  }
  const auto serial = File::open_serial(path);
  EXPECT_FALSE(serial.parallel());
  check_sample(serial);
  comm.barrier();
}

TEST(StoreMpi, ReopenWritableAndAppendDataset) {
  auto& comm = cfma::par::World::comm();
  const auto path = cfma::test::scratch_dir("store-mpi-reopen") / "r.h5";
  write_sample(path);
  comm.barrier();
  {
    auto file = File::open(path, MPI_Comm(comm), true);
    file.create<std::int64_t>("/extra", {static_cast<hsize_t>(comm.size())});
    const std::int64_t mine = 1000 + comm.rank();
    file.write_rows<std::int64_t>("/extra", static_cast<hsize_t>(comm.rank()), 1, &mine);
  }
  comm.barrier();
  const auto file = File::open_serial(path);
  const auto extra = file.read_all<std::int64_t>("/extra");
  ASSERT_EQ(extra.size(), static_cast<std::size_t>(comm.size()));
  for (int r = 0; r < comm.size(); ++r) EXPECT_EQ(extra[static_cast<std::size_t>(r)], 1000 + r);
  check_sample(file);
  comm.barrier();
}

TEST(StoreMpi, ErrorsNameFileAndDataset) {
  auto& comm = cfma::par::World::comm();
  const auto dir = cfma::test::scratch_dir("store-mpi-errors");
  write_sample(dir / "e.h5");
  comm.barrier();
  const auto file = File::open_serial(dir / "e.h5");
  const auto message = [&](auto&& f) -> std::string {
    try {
      f();
    } catch (const cfma::StoreError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(message([&] { file.dims("/nope"); }), (dir / "e.h5").string() + ": missing dataset '/nope'");
  EXPECT_EQ(message([&] { file.read_all<float>("/hand/rms"); }),
            (dir / "e.h5").string() + ": missing dataset '/hand/rms'");
  EXPECT_NE(message([&] { std::vector<float> out(6 * 5); file.read_rows<float>("/g/cube", 8, 5, out.data()); })
                .find("e.h5"),
            std::string::npos);
  EXPECT_EQ(message([&] { file.attr_string("absent"); }),
            (dir / "e.h5").string() + ": missing attribute 'absent' on /");
  EXPECT_EQ(message([&] { File::open_serial(dir / "none.h5"); }), (dir / "none.h5").string() + ": no such file");
  comm.barrier();
}

}  // namespace
