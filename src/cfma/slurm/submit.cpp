#include "cfma/slurm/submit.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <sys/wait.h>

#include "cfma/core/error.hpp"
#include "cfma/core/run_config.hpp"
#include "cfma/slurm/slurm_config.hpp"
#include "cfma/train/train_config.hpp"

namespace cfma::slurm {
namespace {

namespace fs = std::filesystem;

std::string json_list(const std::vector<std::string>& items) {
  std::string s = "[";
  for (const auto& i : items) s += (s.size() > 1 ? "," : "") + ("\"" + i + "\"");
  return s + "]";
}

}  // namespace

std::string shell_command(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& a : argv) {
    const bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_=./:,@%+").find(c) != std::string_view::npos;
    });
    std::string quoted = "'";
    for (const char c : a) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    line += (line.empty() ? "" : " ") + (plain ? a : quoted + "'");
  }
  return line;
}

SubmitPlan plan_submission(const ConfigDoc& doc, const SubmitInputs& in) {
  const auto run = parse_run_config(doc);
  const auto config = parse_slurm_config(doc);
  const auto runs = train::run_matrix(train::parse_train_config(doc));
  SubmitPlan plan;
  plan.log_dir = config.log_dir.empty() ? fs::absolute(run.workdir) / "logs" : fs::absolute(config.log_dir);
  const auto wants = [&](const std::string& stage) {
    return std::find(run.stages.begin(), run.stages.end(), stage) != run.stages.end();
  };
  // `command` then the user's overrides, then `last` (the job's own run.stages wins).
  const auto job = [&](const std::string& name, const JobResources& r, std::vector<std::string> array,
                       std::vector<std::string> command, std::vector<std::string> last, const std::string& log_pattern) {
    std::vector<std::string> argv = {"sbatch", "--parsable", "--job-name=" + run.name + "-" + name,
                                     "--output=" + (plan.log_dir / log_pattern).string(),
                                     "--export=ALL,CFMA_BIN=" + in.cfma_binary.string()};
    if (!plan.jobs.empty()) argv.push_back("--dependency=afterok:@previous@");
    argv.insert(argv.end(), array.begin(), array.end());
    for (auto& o : sbatch_options(r)) argv.push_back(std::move(o));
    argv.push_back(in.sbatch_script.string());
    argv.insert(argv.end(), command.begin(), command.end());
    for (const auto& o : in.overrides) {
      argv.push_back("--set");
      argv.push_back(o);
    }
    argv.insert(argv.end(), last.begin(), last.end());
    plan.jobs.push_back({name, std::move(argv)});
  };
  if (wants("preprocess"))
    job("preprocess", config.preprocess, {}, {"run", in.config.string()}, {"--set", "run.stages=[\"preprocess\"]"},
        "%x-%j.out");
  if (wants("train")) {
    std::string array = "--array=0-" + std::to_string(runs.size() - 1);
    if (config.array_throttle > 0) array += "%" + std::to_string(config.array_throttle);
    job("train", config.train, {array}, {"train", in.config.string(), "--run-index", "@array@"}, {}, "%x-%A_%a.out");
  }
  std::vector<std::string> analysis;
  for (const auto* stage : {"extract", "probe", "similarity", "report"})
    if (wants(stage)) analysis.push_back(stage);
  if (!analysis.empty())
    job("analysis", config.analysis, {}, {"run", in.config.string()}, {"--set", "run.stages=" + json_list(analysis)},
        "%x-%j.out");
  if (plan.jobs.empty()) throw ConfigError(doc.file().string() + ": run.stages: nothing to submit");
  return plan;
}

std::vector<std::string> submit(const SubmitPlan& plan) {
  fs::create_directories(plan.log_dir);
  std::vector<std::string> ids;
  for (const auto& job : plan.jobs) {
    auto argv = job.argv;
    for (auto& a : argv)
      if (const auto at = a.find("@previous@"); at != std::string::npos) a.replace(at, 10, ids.back());
    const auto command = shell_command(argv) + " 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) throw Error("submit: cannot run sbatch for the " + job.name + " job");
    std::string out;
    std::array<char, 512> buffer{};
    while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe)) out += buffer.data();
    const int status = pclose(pipe);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    if (status != 0 || out.empty() || !std::all_of(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(out.find(';') == std::string::npos ? out.size() : out.find(';')), ::isdigit))
      throw Error("submit: sbatch failed for the " + job.name + " job (exit " +
                  std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + "): " + out);
    ids.push_back(out.substr(0, out.find(';')));  // --parsable: "id" or "id;cluster"
  }
  return ids;
}

}  // namespace cfma::slurm
