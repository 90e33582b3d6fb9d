#include "cfma/study/study_manifest.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <set>

#include <ATen/Parallel.h>
#include <Eigen/Core>
#include <boost/mpi/collectives.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/version.hpp>
#include <fftw3.h>
#include <hdf5.h>
#include <mpi.h>
#include <torch/version.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/blas_runtime.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/hash.hpp"
#include "cfma/core/manifest.hpp"
#include "cfma/data/data_config.hpp"
#include "cfma/data/nsynth.hpp"
#include "cfma/par/world.hpp"
#include "cfma/store/content_hash.hpp"
#include "cfma/store/schema.hpp"

namespace cfma {
const char* source_commit();  // generated (cmake/source_commit.cmake)
}

namespace cfma::study {
namespace fs = std::filesystem;

fs::path study_manifest_path(const fs::path& workdir) { return workdir / "study.json"; }
fs::path study_config_path(const fs::path& workdir) { return workdir / "study.toml"; }
const char* source_commit_id() { return source_commit(); }

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

std::string mpi_library() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = "";
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string s(text, static_cast<std::size_t>(std::max(length, 0)));
  const auto comma = s.find(',');  // "Open MPI v4.1.4, package: ..." -> "Open MPI v4.1.4"
  return comma == std::string::npos ? s.substr(0, s.find('\n')) : s.substr(0, comma);
}

std::string host_name() {
  char host[256] = "";
  ::gethostname(host, sizeof host - 1);
  return host;
}

std::string now_utc() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

std::int64_t mtime_ns(const fs::path& p) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(fs::last_write_time(p).time_since_epoch()).count();
}

// Blocking POSIX record lock on a file beside study.json (the kernel drops it when the
// holder dies): the read-modify-write of one recorder never interleaves with another's.
class StudyLock {
 public:
  explicit StudyLock(const fs::path& file) : fd_(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw Error(file.string() + ": cannot create the study lock file");
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    while (::fcntl(fd_, F_SETLKW, &lock) != 0)
      if (errno != EINTR) {
        ::close(fd_);
        throw Error(file.string() + ": cannot lock the study manifest");
      }
  }
  ~StudyLock() { ::close(fd_); }
  StudyLock(const StudyLock&) = delete;
  StudyLock& operator=(const StudyLock&) = delete;

 private:
  int fd_;
};

bool is_output_file(const fs::path& p) {
  const auto name = p.filename().string();
  for (const char* suffix : {".manifest.json", ".lock", ".partial", ".partial.json", ".tmp"})
    if (name.size() >= std::string_view(suffix).size() && name.ends_with(suffix)) return false;
  return fs::is_regular_file(p) && name.find(".tmp-") == std::string::npos && name[0] != '.';
}

// The wavs preprocess read (the notes in features.h5 and those it skipped), for hashing.
std::vector<std::string> input_wavs(const ConfigDoc& doc, const WorkPaths& paths, nlohmann::json& index_files) {
  const auto config = data::parse_data_config(doc);
  const auto scan = data::scan_data_root(config);
  for (const auto& f : scan.index_files) index_files[f.string()] = hash_file(f);
  std::set<std::string> read;
  const auto file = store::File::open_serial(paths.features());
  for (auto& note : file.read_strings(store::schema::label("note_str"))) read.insert(std::move(note));
  if (const auto m = read_manifest(paths.features()); m && m->contains("skipped"))
    for (const auto& p : (*m)["skipped"]) read.insert(p.value("note_str", ""));
  std::vector<std::string> wavs;
  for (const auto& e : scan.examples)
    if (read.count(e.note_str)) wavs.push_back(e.wav.string());
  return wavs;
}

nlohmann::json hash_inputs(const boost::mpi::communicator& comm, const ConfigDoc& doc, const WorkPaths& paths) {
  nlohmann::json index_files = nlohmann::json::object();
  std::vector<std::string> wavs;
  par::all_or_none(comm, [&] {
    if (comm.rank() == 0) wavs = input_wavs(doc, paths, index_files);
  });
  boost::mpi::broadcast(comm, wavs, 0);
  // Rank r hashes wavs r, r + P, ...; rank 0 puts them back in order.
  std::vector<std::string> mine;
  par::all_or_none(comm, [&] {
    for (std::size_t k = static_cast<std::size_t>(comm.rank()); k < wavs.size(); k += static_cast<std::size_t>(comm.size()))
      mine.push_back(hash_file(wavs[k]));
  });
  std::vector<std::vector<std::string>> shares;
  boost::mpi::gather(comm, mine, shares, 0);
  if (comm.rank() != 0) return {};
  // Named relative to data.root, so two copies of one dataset compare equal.
  const auto root = data::parse_data_config(doc).root;
  nlohmann::json audio = nlohmann::json::object(), index = nlohmann::json::object();
  for (const auto& [file, hash] : index_files.items()) index[fs::path(file).lexically_relative(root).generic_string()] = hash;
  Hasher all;
  for (std::size_t k = 0; k < wavs.size(); ++k) {
    const auto& hash = shares[k % shares.size()][k / shares.size()];
    const auto name = fs::path(wavs[k]).lexically_relative(root).generic_string();
    audio[name] = hash;
    all.text(name).text(hash);
  }
  return {{"data_root", fs::absolute(root).string()}, {"index_files", index}, {"audio_files", wavs.size()},
          {"audio_hash", all.hex()}, {"audio", audio}};
}

}  // namespace

nlohmann::json environment_description() {
  unsigned h5_major = 0, h5_minor = 0, h5_release = 0;
  H5get_libversion(&h5_major, &h5_minor, &h5_release);
  const auto version = [](auto a, auto b, auto c) {
    return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c);
  };
#if defined(__clang__)
  const std::string compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  const std::string compiler = std::string("gcc ") + __VERSION__;
#else
  const std::string compiler = "unknown";
#endif
  return {{"compiler", compiler},
          {"libtorch", version(TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH)},
          {"hdf5", version(h5_major, h5_minor, h5_release)},
          {"mpi", mpi_library()},
          {"boost", version(BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100)},
          {"eigen", version(EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION)},
          {"fftw", std::string(fftwf_version)},
          {"blas", blas_description()},
          {"cpu", cpu_model()},
          {"cpu_vector_level", cpu_vector_level()}};
}

std::vector<std::string> stage_outputs(const WorkPaths& paths, const std::string& stage,
                                       const std::vector<std::string>& runs) {
  std::vector<fs::path> files;
  const auto add_dir = [&](const fs::path& dir, const std::function<bool(const fs::path&)>& keep) {
    if (!fs::is_directory(dir)) return;
    for (const auto& e : fs::directory_iterator(dir))
      if (is_output_file(e.path()) && keep(e.path())) files.push_back(e.path());
  };
  const auto any = [](const fs::path&) { return true; };
  if (stage == "preprocess") {
    if (fs::exists(paths.features())) files.push_back(paths.features());
  } else if (stage == "train") {
    std::vector<fs::path> dirs;
    for (const auto& r : runs) dirs.push_back(paths.run_dir(r));
    if (runs.empty() && fs::is_directory(paths.runs()))
      for (const auto& e : fs::directory_iterator(paths.runs()))
        if (e.is_directory()) dirs.push_back(e.path());
    for (const auto& d : dirs)
      add_dir(d, [](const fs::path& p) { return p.filename() != "checkpoint.pt"; });
  } else if (stage == "extract") {
    add_dir(paths.activations_dir(), any);
  } else if (stage == "probe" || stage == "similarity") {
    add_dir(paths.results(), [&](const fs::path& p) {
      return (p.filename().string().rfind("similarity", 0) == 0) == (stage == "similarity");
    });
  } else if (stage == "report") {
    if (fs::exists(paths.report() / "index.html")) files.push_back(paths.report() / "index.html");
  }
  std::vector<std::string> relative;
  for (const auto& f : files) relative.push_back(fs::relative(f, paths.workdir).generic_string());
  std::sort(relative.begin(), relative.end());
  return relative;
}

nlohmann::json hash_output(const fs::path& file) {
  nlohmann::json record{{"bytes", fs::file_size(file)}, {"mtime_ns", mtime_ns(file)}};
  if (file.extension() == ".h5") {
    const auto digest = store::content_digest(file);
    record["kind"] = "hdf5";
    record["hash"] = digest.hash;
    nlohmann::json datasets = nlohmann::json::object();
    for (const auto& d : digest.datasets) datasets[d.name] = d.hash;
    record["datasets"] = datasets;
  } else {
    record["kind"] = "file";
    record["hash"] = hash_file(file);
  }
  return record;
}

namespace {
void update_study(const fs::path& manifest, const ConfigDoc& doc, const WorkPaths& paths,
                  const StageInvocation& invocation, const nlohmann::json& inputs,
                  const std::vector<std::string>& hosts, int ranks) {
  {
    fs::create_directories(paths.workdir);
    const StudyLock lock(manifest.string() + ".lock");
    nlohmann::json study = fs::exists(manifest) ? read_study(manifest) : nlohmann::json::object();
    study["format"] = 1;
    study["cfma"] = {{"version", CFMA_VERSION}, {"source_commit", source_commit()}};
    study["environment"] = environment_description();
    study["config"] = doc.to_toml();
    study["config_file"] = doc.file().string();
    if (!inputs.is_null()) study["inputs"] = inputs;
    auto& stage = study["stages"][invocation.stage];
    if (!stage.is_object()) stage = nlohmann::json::object();
    nlohmann::json previous = stage.value("outputs", nlohmann::json::object());
    // train --run-index updates its own run's files and keeps the others'.
    nlohmann::json outputs = invocation.runs.empty() ? nlohmann::json::object() : previous;
    if (!invocation.runs.empty())
      for (const auto& r : invocation.runs)
        for (auto it = outputs.begin(); it != outputs.end();)
          it = it.key().rfind("runs/" + r + "/", 0) == 0 ? outputs.erase(it) : std::next(it);
    std::size_t rewritten = 0;  // outputs this invocation wrote (size or mtime changed)
    for (const auto& rel : stage_outputs(paths, invocation.stage, invocation.runs)) {
      const auto file = paths.workdir / rel;
      const auto& old = previous.contains(rel) ? previous[rel] : nlohmann::json();
      // An unchanged file (size and mtime) keeps its hash: an up-to-date stage costs no re-read.
      if (old.is_object() && old.value("bytes", std::uintmax_t{0}) == fs::file_size(file) &&
          old.value("mtime_ns", std::int64_t{0}) == mtime_ns(file))
        outputs[rel] = old;
      else {
        outputs[rel] = hash_output(file);
        ++rewritten;
      }
    }
    stage["outputs"] = outputs;
    std::map<std::string, int> per_host;
    for (const auto& h : hosts) ++per_host[h];
    nlohmann::json entry{{"finished", now_utc()},
                         {"wall_s", invocation.wall_s},
                         {"ranks", ranks},
                         {"threads", at::get_num_threads()},
                         {"blas_threads", blas_threads()},
                         {"hosts", per_host},
                         {"source_commit", source_commit()},
                         {"config_hash", hash_text(doc.to_toml())}};
    if (!invocation.runs.empty()) entry["runs"] = invocation.runs;
    // Nothing rewritten: the stage found its outputs up to date (the report's wall times skip it).
    entry["up_to_date"] = rewritten == 0 && !outputs.empty();
    if (const char* job = std::getenv("SLURM_JOB_ID")) {
      entry["slurm_job_id"] = job;
      const char* restarts = std::getenv("SLURM_RESTART_COUNT");
      entry["slurm_attempt"] = 1 + (restarts ? std::atoi(restarts) : 0);
      if (const char* array = std::getenv("SLURM_ARRAY_JOB_ID")) entry["slurm_array_job_id"] = array;
      if (const char* task = std::getenv("SLURM_ARRAY_TASK_ID")) entry["slurm_array_task_id"] = task;
    }
    auto& invocations = stage["invocations"];
    if (!invocations.is_array()) invocations = nlohmann::json::array();
    invocations.push_back(entry);
    constexpr std::size_t kKept = 50;  // a long job array must not grow the file without bound
    if (invocations.size() > kKept) invocations.erase(invocations.begin(), invocations.end() - kKept);
    write_file_atomic(study_config_path(paths.workdir), doc.to_toml());
    write_file_atomic(manifest, study.dump(1) + "\n");
  }
}
}  // namespace

void record_stage(const boost::mpi::communicator& comm, const ConfigDoc& doc, const WorkPaths& paths,
                  const StageInvocation& invocation) {
  std::vector<std::string> hosts;
  boost::mpi::gather(comm, host_name(), hosts, 0);
  nlohmann::json inputs;
  if (invocation.stage == "preprocess") inputs = hash_inputs(comm, doc, paths);
  const auto manifest = study_manifest_path(paths.workdir);
  par::on_root(comm, [&] {
    try {
      update_study(manifest, doc, paths, invocation, inputs, hosts, comm.size());
    } catch (const Error&) {
      throw;  // names its file already
    } catch (const std::exception& e) {
      throw Error(manifest.string() + ": cannot record stage " + invocation.stage + ": " + e.what());
    }
  });
}


nlohmann::json read_study(const fs::path& workdir_or_file) {
  const auto file = fs::is_directory(workdir_or_file) ? study_manifest_path(workdir_or_file) : workdir_or_file;
  if (!fs::exists(file)) throw Error(file.string() + ": no study manifest (run a stage of the study first)");
  try {
    auto study = nlohmann::json::parse(read_file(file));
    if (!study.is_object() || !study.contains("stages")) throw Error(file.string() + ": not a study manifest (no 'stages')");
    return study;
  } catch (const nlohmann::json::exception& e) {
    throw Error(file.string() + ": damaged study manifest: " + e.what());
  }
}

}  // namespace cfma::study
