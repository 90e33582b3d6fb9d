#include "cfma/par/workdir_lock.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cfma/core/error.hpp"
#include "cfma/par/world.hpp"

namespace cfma::par {

std::string lock_holder_description(const std::string& command) {
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  std::string job;
  if (const char* id = std::getenv("SLURM_JOB_ID")) {
    job = std::string(", Slurm job ") + id;
    const char* array_job = std::getenv("SLURM_ARRAY_JOB_ID");
    const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
    if (array_job && task) job = std::string(", Slurm job ") + array_job + "_" + task;
  }
  const std::time_t now = std::time(nullptr);
  char since[32] = "";
  std::tm local{};
  ::localtime_r(&now, &local);
  std::strftime(since, sizeof since, "%Y-%m-%d %H:%M:%S", &local);
  return fmt::format("host {}, pid {}{}, cfma {}, since {}", host, ::getpid(), job, command, since);
}

namespace {
std::string read_holder(int fd) {
  char buf[512];
  const auto n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return {};
  std::string text(buf, static_cast<std::size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}
}  // namespace

DirLock::DirLock(const std::filesystem::path& dir, LockMode mode)
    : file_(dir / ".cfma.lock") {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir.string() + ": cannot create the directory: " + ec.message());
  fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(file_.string() + ": cannot create the lock file: " + std::strerror(errno));
  struct flock lock {};
  lock.l_type = mode == LockMode::exclusive ? F_WRLCK : F_RDLCK;
  lock.l_whence = SEEK_SET;
  if (::fcntl(fd_, F_SETLK, &lock) != 0) {
    const int error = errno;
    std::string holder;
    if (error == EACCES || error == EAGAIN) {
      holder = read_holder(fd_);
      struct flock probe = lock;
      if (holder.empty() && ::fcntl(fd_, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK)
        holder = "pid " + std::to_string(probe.l_pid);
    }
    ::close(fd_);
    fd_ = -1;
    if (error != EACCES && error != EAGAIN)
      throw Error(file_.string() + ": cannot lock: " + std::strerror(error));
    throw Error(dir.string() + " is in use by another cfma job (" + (holder.empty() ? "holder unknown" : holder) +
                "): wait for it to finish or give this one another [run].workdir");
  }
}

void DirLock::record_holder(const std::string& command) {
  const auto text = lock_holder_description(command) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
    throw Error(file_.string() + ": cannot write the lock file: " + std::strerror(errno));
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock; the file stays (removing it would race)
}

WorkdirLock::WorkdirLock(const boost::mpi::communicator& comm, const std::filesystem::path& workdir,
                         const std::optional<std::filesystem::path>& own_dir, const std::string& command) {
  on_root(comm, [&] {
    workdir_.emplace(workdir, own_dir ? LockMode::shared : LockMode::exclusive);
    if (own_dir) own_.emplace(*own_dir, LockMode::exclusive);
    // Once every lock is held: a job refused its own directory leaves the workdir's record alone.
    if (own_) own_->record_holder(command);
    workdir_->record_holder(command);
  });
}

}  // namespace cfma::par
