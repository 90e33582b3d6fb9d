// `cfma verify STUDY_A STUDY_B`: compares two studies output by output (study/verify.hpp) and
// exits 1 when anything differs beyond its tolerance or is missing. `cfma verify STUDY`:
// re-hashes one study's inputs and outputs against its manifest. Serial: run it without mpirun.
#include <cstdio>

#include "cfma/par/world.hpp"
#include "cfma/study/verify.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {
namespace {

const Registrar verify_command{Command{
    "verify", "compare two studies (workdirs) output by output, or re-hash one against its study.json",
    [](CLI::App& app) -> std::function<int()> {
      static std::vector<std::string> studies;
      app.add_option("studies", studies, "one or two workdirs (or study.json files)")->required()->expected(1, 2);
      return [] {
        if (par::World::rank() != 0) return 0;
        const auto result = studies.size() == 2 ? study::verify_studies(studies[0], studies[1]) : study::verify_study(studies[0]);
        std::fputs(study::format_result(result).c_str(), stdout);
        std::fflush(stdout);
        return result.ok() ? 0 : 1;
      };
    }}};

}  // namespace
}  // namespace cfma::jobs
