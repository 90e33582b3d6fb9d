#pragma once
// What a rank can learn about the node it runs on: how many ranks of a communicator share it,
// and how much memory they may still use there (a memory-bounded plan must fit all of them).
#include <filesystem>
#include <optional>
#include <string>

#include <boost/mpi/communicator.hpp>

namespace cfma::par {

// Collective: the number of ranks of `comm` on this rank's node (shared-memory domain).
int ranks_on_this_node(const boost::mpi::communicator& comm);
// The memory this process may still use: the node's MemAvailable, or less where a memory
// cgroup (Slurm's --mem, a container) limits the process: limit - (usage - inactive file
// cache) of the tightest ancestor. nullopt where neither can be read.
std::optional<double> available_memory_bytes();
// The cgroup part alone, from the text of /proc/self/cgroup and the cgroup mount (a parameter
// so that a test can lay out a hierarchy): v2 (memory.max, memory.current) and v1
// (memory.limit_in_bytes, memory.usage_in_bytes); nullopt when no ancestor sets a limit.
std::optional<double> cgroup_headroom_bytes(const std::string& proc_self_cgroup, const std::filesystem::path& mount);
std::string host_name();

}  // namespace cfma::par
