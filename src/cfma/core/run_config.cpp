#include "cfma/core/run_config.hpp"

#include <cstdlib>

namespace cfma {

RunConfig parse_run_config(const ConfigDoc& doc) {
  const auto s = doc.section("run");
  RunConfig c;
  c.name = s.get_string("name", c.name);
  c.workdir = s.get_path("workdir", c.workdir);
  c.stages = s.get_string_list("stages", c.stages);
  if (c.stages.empty()) s.fail("stages", "empty list (cfma run would do nothing)");
  s.check_unique("stages", c.stages);
  c.threads = static_cast<int>(s.get_int("threads", c.threads, between(0, 1024)));
  return c;
}

nlohmann::json to_json(const RunConfig& c) {
  return {{"name", c.name}, {"workdir", c.workdir.string()}, {"stages", c.stages}, {"threads", c.threads}};
}

int resolve_threads(int configured) {
  if (configured > 0) return configured;
  for (const char* var : {"SLURM_CPUS_PER_TASK", "OMP_NUM_THREADS"}) {
    if (const char* v = std::getenv(var)) {
      const int n = std::atoi(v);
      if (n > 0) return n;
    }
  }
  return 1;
}

}  // namespace cfma
