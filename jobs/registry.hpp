#pragma once
// Jobs register themselves here (a static Registrar in each jobs/<name>.cpp), so adding a job
// touches one file. A *stage* is a pipeline job: it becomes the subcommand
// `cfma <name> CONFIG [--set k=v]...` and a step of `cfma run CONFIG`. A *command* is any
// other subcommand (render, config check).
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cfma/core/config.hpp"

namespace cfma::jobs {

struct StageOptions {
  bool force = false;  // recompute even when the manifest says the output is up to date
};

// What a stage command locks (par/workdir_lock.hpp): by default the whole workdir, exclusively.
struct LockScope {
  bool none = false;                          // writes nothing (e.g. train --list)
  std::optional<std::filesystem::path> own;   // shares the workdir, owns only this directory
};

struct Stage {
  std::string name;
  int order = 0;  // position in `cfma run`
  std::string help;
  // Parses (and so validates) every config section the stage reads. Called for all stages
  // before anything runs, so `cfma run` fails on a bad key before hours of work.
  std::function<void(const ConfigDoc&)> validate;
  std::function<void(const ConfigDoc&, const StageOptions&)> run;
  // Optional stage-specific command-line options (e.g. train's --run-index), bound to
  // variables the stage's file owns.
  std::function<void(CLI::App&)> add_options = nullptr;
  // Optional: a narrower lock than the whole workdir (train --run-index: its run directory).
  std::function<LockScope(const ConfigDoc&)> lock_scope = nullptr;
  // Optional: the runs this invocation trains when it is not the whole matrix (train
  // --run-index), so the study manifest updates only their files.
  std::function<std::vector<std::string>(const ConfigDoc&)> recorded_runs = nullptr;
};

// Runs the stage, then records it in the study manifest (study/study_manifest.hpp) with its
// wall time; a stage that writes nothing (train --list) is not recorded.
void run_stage(const Stage& stage, const ConfigDoc& doc, const StageOptions& options);

struct Command {
  std::string name;
  std::string help;
  // Adds options to `app` and returns the action to run when the subcommand is chosen.
  std::function<std::function<int()>(CLI::App& app)> setup;
};

std::vector<Stage>& stages();
std::vector<Command>& commands();

struct Registrar {
  explicit Registrar(Stage s) { stages().push_back(std::move(s)); }
  explicit Registrar(Command c) { commands().push_back(std::move(c)); }
};

// Parses every registered stage's sections plus [run], then rejects unknown keys.
void validate_config(const ConfigDoc& doc);

}  // namespace cfma::jobs
