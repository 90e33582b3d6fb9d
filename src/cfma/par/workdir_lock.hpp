#pragma once
// Workdir locks: two cfma jobs never write the same files. A stage command or `cfma run` holds
// an exclusive lock on <workdir>/.cfma.lock for its whole run; the tasks of a training job
// array share the workdir (a shared lock) and each owns its run directory (an exclusive lock on
// runs/<run>/.cfma.lock). A job that cannot get its lock refuses at once with a message naming
// the holder (host, pid, Slurm job, command, start time). The locks are POSIX record locks
// (fcntl): the kernel drops them when the holder exits, killed or not, and NFS and Lustre
// (mounted with flock) share them between nodes.
#include <filesystem>
#include <optional>
#include <string>

#include <boost/mpi/communicator.hpp>

namespace cfma::par {

enum class LockMode { exclusive, shared };

// One lock on `dir`/.cfma.lock, held until destruction. Throws Error when another process
// holds a conflicting lock, or when the lock file cannot be created (read-only workdir).
class DirLock {
 public:
  DirLock(const std::filesystem::path& dir, LockMode mode);
  ~DirLock();
  // Writes this process's description into the lock file (for a shared lock: the latest of
  // its holders), which a refused job's message quotes.
  void record_holder(const std::string& command);
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  std::filesystem::path file_;
  int fd_ = -1;
};

// Collective: rank 0 takes the workdir's lock (exclusive, or shared with `own_dir` locked
// exclusively when given) and every rank learns whether it got them.
class WorkdirLock {
 public:
  WorkdirLock(const boost::mpi::communicator& comm, const std::filesystem::path& workdir,
              const std::optional<std::filesystem::path>& own_dir, const std::string& command);

 private:
  std::optional<DirLock> workdir_, own_;
};

// "host vm, pid 4242, Slurm job 17_3, cfma train, since 2026-12-01 23:10:02": this process.
std::string lock_holder_description(const std::string& command);

}  // namespace cfma::par
