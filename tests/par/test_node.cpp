// The memory a rank may still use: a memory cgroup's limit (Slurm's --mem, a container) beats
// the node's MemAvailable. Hierarchies laid out as real files, v1 and v2, with the tightest
// ancestor winning and reclaimable file cache not counted as used.
#include <gtest/gtest.h>

#include <fstream>

#include "cfma/par/node.hpp"
#include "tests/test_paths.hpp"

namespace cfma::par {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

TEST(NodeMemory, CgroupV2TightestAncestorWithoutFileCache) {
  const auto root = test::scratch_dir("node_cgroup_v2");
  // The job's step has no limit of its own; its job has 8 GiB (5 used, of which 1 is inactive
  // file cache); the user slice 64 GiB with 10 used.
  write(root / "user.slice/job_7/step_0/memory.max", "max\n");
  write(root / "user.slice/job_7/step_0/memory.current", "1000\n");
  write(root / "user.slice/job_7/memory.max", "8589934592\n");
  write(root / "user.slice/job_7/memory.current", "5368709120\n");
  write(root / "user.slice/job_7/memory.stat", "anon 4294967296\ninactive_file 1073741824\nactive_file 0\n");
  write(root / "user.slice/memory.max", "68719476736\n");
  write(root / "user.slice/memory.current", "10737418240\n");
  const auto headroom = cgroup_headroom_bytes("0::/user.slice/job_7/step_0\n", root);
  ASSERT_TRUE(headroom.has_value());
  EXPECT_DOUBLE_EQ(*headroom, 8589934592.0 - (5368709120.0 - 1073741824.0));  // 4 GiB
}

TEST(NodeMemory, CgroupV1MemoryControllerLineAndNoLimit) {
  const auto root = test::scratch_dir("node_cgroup_v1");
  const std::string self = "9:name=systemd:/\n4:memory:/slurm/uid_0/job_3\n0::/\n";
  write(root / "memory/slurm/uid_0/job_3/memory.limit_in_bytes", "2147483648\n");
  write(root / "memory/slurm/uid_0/job_3/memory.usage_in_bytes", "536870912\n");
  write(root / "memory/slurm/uid_0/job_3/memory.stat", "cache 0\ntotal_inactive_file 0\n");
  write(root / "memory/memory.limit_in_bytes", "9223372036854771712\n");  // the kernel's "unlimited"
  const auto headroom = cgroup_headroom_bytes(self, root);
  ASSERT_TRUE(headroom.has_value());
  EXPECT_DOUBLE_EQ(*headroom, 2147483648.0 - 536870912.0);
  // No limit anywhere: no figure (MemAvailable decides).
  const auto free_root = test::scratch_dir("node_cgroup_none");
  write(free_root / "memory/memory.limit_in_bytes", "9223372036854771712\n");
  EXPECT_FALSE(cgroup_headroom_bytes("4:memory:/\n", free_root).has_value());
  EXPECT_FALSE(cgroup_headroom_bytes("", free_root).has_value());
}

TEST(NodeMemory, ThisProcessHasSomeMemoryAvailable) {
  const auto available = available_memory_bytes();
  ASSERT_TRUE(available.has_value());  // Linux: /proc/meminfo
  EXPECT_GT(*available, 64.0 * (1 << 20));
}

}  // namespace
}  // namespace cfma::par
