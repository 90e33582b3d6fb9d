// cfma: one binary, one subcommand per job. Errors from any layer arrive here as cfma::Error
// (or std::exception) and are printed once, on one line, by the rank that hit them.
#include <algorithm>
#include <cstdio>
#include <chrono>
#include <iostream>
#include <thread>

#include <boost/mpi/collectives.hpp>
#include <mpi.h>

#include <CLI/CLI.hpp>

#include "cfma/core/blas_runtime.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/log.hpp"
#include "cfma/nn/allocator.hpp"
#include "cfma/core/run_config.hpp"
#include "cfma/core/stop_signal.hpp"
#include "cfma/par/workdir_lock.hpp"
#include "cfma/par/world.hpp"
#include "cfma/study/study_manifest.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {

std::vector<Stage>& stages() {
  static std::vector<Stage> s;
  return s;
}
std::vector<Command>& commands() {
  static std::vector<Command> c;
  return c;
}

void run_stage(const Stage& stage, const ConfigDoc& doc, const StageOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  stage.run(doc, options);
  if (stage.lock_scope && stage.lock_scope(doc).none) return;
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  study::StageInvocation invocation{stage.name, wall_s, stage.recorded_runs ? stage.recorded_runs(doc) : std::vector<std::string>{}};
  study::record_stage(par::World::comm(), doc, WorkPaths{parse_run_config(doc).workdir}, invocation);
}

}  // namespace cfma::jobs

namespace {

// Prints a failure on one line. When every rank fails (the usual case: ranks share the state
// that went wrong), they meet in a non-blocking barrier and rank 0 prints each distinct
// message once; a rank that fails alone prints its own line with its rank after a short wait
// and aborts the job (MPI_Abort), since the other ranks wait for it in a collective.
void report_error(std::string message) {
  using cfma::par::World;
  std::replace(message.begin(), message.end(), '\n', ' ');
  if (World::size() == 1) {
    std::fprintf(stderr, "cfma: error: %s\n", message.c_str());
    if (cfma::par::unclosed_hdf5_file()) {
      std::fflush(stderr);
      std::_Exit(1);  // no MPI_Finalize, no atexit: HDF5 would crash closing the file
    }
    return;
  }
  MPI_Request request;
  MPI_Ibarrier(MPI_Comm(World::comm()), &request);
  int all_failed = 0;
  for (int waited_ms = 0; waited_ms < 3000 && !all_failed; waited_ms += 10) {
    MPI_Test(&request, &all_failed, MPI_STATUS_IGNORE);
    if (!all_failed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!all_failed) {
    // This rank failed alone: the others are inside a collective it will never join (and the
    // Ibarrier above cannot be cancelled). End the whole job rather than leave them hanging.
    const bool tagged = message.rfind("[rank ", 0) == 0;
    std::fprintf(stderr, "cfma: error: %s%s\n",
                 tagged ? "" : ("[rank " + std::to_string(World::rank()) + "] ").c_str(), message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_Comm(World::comm()), 1);
  }
  std::vector<std::string> messages;
  boost::mpi::gather(World::comm(), message, messages, 0);
  // A rank holding an HDF5 file it could not close must not reach MPI_Finalize, where HDF5
  // would touch the file again and crash (par::note_unclosed_hdf5_file).
  const bool abort_after = cfma::par::unclosed_hdf5_file();
  std::vector<std::string> printed;
  for (std::size_t r = 0; r < messages.size() && World::rank() == 0; ++r) {
    if (std::find(printed.begin(), printed.end(), messages[r]) != printed.end()) continue;
    printed.push_back(messages[r]);
    const bool same_everywhere = std::all_of(messages.begin(), messages.end(),
                                             [&](const std::string& m) { return m == messages[r]; });
    const bool tagged = messages[r].rfind("[rank ", 0) == 0;
    std::fprintf(stderr, "cfma: error: %s%s\n",
                 same_everywhere || tagged ? "" : ("[rank " + std::to_string(r) + "] ").c_str(),
                 messages[r].c_str());
  }
  std::fflush(stderr);
  if (abort_after) {
    // Every rank is here (the gather above): wait for rank 0's lines to be out, then end.
    MPI_Barrier(MPI_Comm(World::comm()));
    MPI_Abort(MPI_Comm(World::comm()), 1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cfma;
  reexec_with_capable_blas_kernels(argv);  // before MPI starts: may replace this process
  par::World world(argc, argv);
  // One BLAS thread per rank unless the environment says otherwise; the stages set [run].threads.
  set_blas_threads(resolve_threads(0));
  // Training and extraction allocate ~40 MiB activations every step: keep them mapped.
  nn::keep_large_allocations_mapped();
  const int rank = par::World::rank();

  CLI::App app{"cfma: convolutional features for music audio (NSynth pipeline, MPI)"};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "debug logging");
  app.set_version_flag("--version", std::string("cfma ") + CFMA_VERSION + "\nBLAS: " + blas_description());

  std::function<int()> action;
  auto& job_stages = jobs::stages();
  std::sort(job_stages.begin(), job_stages.end(),
            [](const auto& a, const auto& b) { return a.order < b.order; });

  struct StageArgs {
    std::string config;
    std::vector<std::string> overrides;
    bool force = false;
  };
  std::vector<StageArgs> stage_args(job_stages.size());
  for (std::size_t i = 0; i < job_stages.size(); ++i) {
    auto* sub = app.add_subcommand(job_stages[i].name, job_stages[i].help);
    sub->add_option("config", stage_args[i].config, "config file (TOML)")->required();
    sub->add_option("--set", stage_args[i].overrides, "override a key: section.key=value");
    sub->add_flag("--force", stage_args[i].force, "recompute even when up to date");
    if (job_stages[i].add_options) job_stages[i].add_options(*sub);
    sub->callback([&, i] {
      action = [&, i] {
        const auto doc = ConfigDoc::load(stage_args[i].config, stage_args[i].overrides);
        jobs::validate_config(doc);
        // No other cfma job writes this workdir (or this run directory) while the stage runs.
        const auto scope = job_stages[i].lock_scope ? job_stages[i].lock_scope(doc) : jobs::LockScope{};
        std::optional<par::WorkdirLock> lock;
        if (!scope.none) lock.emplace(par::World::comm(), parse_run_config(doc).workdir, scope.own, job_stages[i].name);
        // SIGTERM / SIGUSR1 only set a flag from here on: the stage stops at its next unit
        // boundary (other commands keep the default action: they never poll the flag).
        install_stop_signal_handlers();
        jobs::run_stage(job_stages[i], doc, jobs::StageOptions{stage_args[i].force});
        return 0;
      };
    });
  }
  for (auto& command : jobs::commands()) {
    auto* sub = app.add_subcommand(command.name, command.help);
    auto run = command.setup(*sub);
    sub->callback([&action, run] { action = run; });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return rank == 0 ? app.exit(e) : (e.get_exit_code() == 0 ? 0 : 2);
  }
  init_logging(rank, par::World::size(), verbose);
  if (const auto note = blas_kernel_note(); !note.empty() && rank == 0) spdlog::debug("{}", note);
  try {
    return action ? action() : 0;
  } catch (const Interrupted& e) {
    if (rank == 0) std::fprintf(stderr, "cfma: %s\n", e.what());
    return Interrupted::exit_code;
  } catch (const std::exception& e) {
    report_error(e.what());
    return 1;
  }
}
