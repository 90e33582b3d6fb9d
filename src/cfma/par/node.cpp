#include "cfma/par/node.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <mpi.h>
#include <unistd.h>

namespace cfma::par {

int ranks_on_this_node(const boost::mpi::communicator& comm) {
  MPI_Comm node = MPI_COMM_NULL;
  if (MPI_Comm_split_type(MPI_Comm(comm), MPI_COMM_TYPE_SHARED, comm.rank(), MPI_INFO_NULL, &node) != MPI_SUCCESS)
    throw std::runtime_error("MPI_Comm_split_type(MPI_COMM_TYPE_SHARED) failed");
  int size = 0;
  const int status = MPI_Comm_size(node, &size);
  MPI_Comm_free(&node);
  if (status != MPI_SUCCESS) throw std::runtime_error("MPI_Comm_size of the node communicator failed");
  return size;
}

std::optional<double> available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);)
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream fields(line.substr(13));
      double kib = 0;
      if (fields >> kib) return kib * 1024.0;
    }
  return std::nullopt;
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "this node";
  return name;
}

}  // namespace cfma::par
