#pragma once
// What a rank can learn about the node it runs on: how many ranks of a communicator share it,
// and how much memory the node has left (a memory-bounded plan must fit all of them).
#include <cstdint>
#include <optional>
#include <string>

#include <boost/mpi/communicator.hpp>

namespace cfma::par {

// Collective: the number of ranks of `comm` on this rank's node (shared-memory domain).
int ranks_on_this_node(const boost::mpi::communicator& comm);
// MemAvailable of /proc/meminfo in bytes; nullopt where it cannot be read (not Linux).
std::optional<double> available_memory_bytes();
std::string host_name();

}  // namespace cfma::par
