#include "cfma/par/node.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <mpi.h>
#include <unistd.h>

namespace cfma::par {

namespace fs = std::filesystem;

namespace {

std::optional<double> read_number(const fs::path& file) {
  std::ifstream in(file);
  std::string word;
  if (!(in >> word) || word == "max") return std::nullopt;
  try {
    return std::stod(word);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The value of `key` in a memory.stat file (0 when absent).
double stat_value(const fs::path& file, const std::string& key) {
  std::ifstream in(file);
  std::string name;
  double value = 0;
  while (in >> name >> value)
    if (name == key) return value;
  return 0;
}

}  // namespace

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

std::optional<double> cgroup_headroom_bytes(const std::string& proc_self_cgroup, const fs::path& mount) {
  std::optional<double> tightest;
  // Lines "id:controllers:path": "0::/p" is v2 (unified), "n:...memory...:/p" is v1.
  std::istringstream lines(proc_self_cgroup);
  for (std::string line; std::getline(lines, line);) {
    const auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const fs::path path = fs::path(line.substr(second + 1)).relative_path();
    bool v1 = false;
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');) v1 = v1 || name == "memory";
    if (!v1 && !controllers.empty()) continue;
    const fs::path base = v1 ? mount / "memory" : (fs::exists(mount / "unified") ? mount / "unified" : mount);
    const char* limit_file = v1 ? "memory.limit_in_bytes" : "memory.max";
    const char* usage_file = v1 ? "memory.usage_in_bytes" : "memory.current";
    const char* inactive_key = v1 ? "total_inactive_file" : "inactive_file";
    // The process's cgroup and each ancestor: the tightest headroom wins.
    for (fs::path at = path;; at = at.parent_path()) {
      const fs::path dir = base / at;
      if (const auto limit = read_number(dir / limit_file); limit && *limit < 1e18) {
        const double used = read_number(dir / usage_file).value_or(0) - stat_value(dir / "memory.stat", inactive_key);
        const double headroom = std::max(0.0, *limit - std::max(0.0, used));
        tightest = tightest ? std::min(*tightest, headroom) : headroom;
      }
      if (at.empty() || at == at.parent_path()) break;
    }
  }
  return tightest;
}

std::optional<double> available_memory_bytes() {
  std::optional<double> available;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);)
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream fields(line.substr(13));
      double kib = 0;
      if (fields >> kib) available = kib * 1024.0;
    }
  std::ifstream self("/proc/self/cgroup");
  const std::string text((std::istreambuf_iterator<char>(self)), std::istreambuf_iterator<char>());
  if (const auto headroom = cgroup_headroom_bytes(text, "/sys/fs/cgroup"))
    available = available ? std::min(*available, *headroom) : *headroom;
  return available;
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "this node";
  return name;
}

}  // namespace cfma::par
