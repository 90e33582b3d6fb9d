// Probe speed: cfma's probe of one feature set (probe::probe_feature_set, as the probe stage
// runs it: read, standardise, row-space reduction when n_train < D, then the solvers) on a
// features file written by bench/bench_probe.py, which times scikit-learn on the same rows and
// calls this program.
// Usage: bench_probe FILE [key=value ...]   keys: [probe] keys (probe_config.hpp) in TOML
//   syntax, a bare word taken as a string: C=1 row_space=false targets='["family"]'.
// FILE: /X [N, D] float32, /labels/*, /split/*. Prints one JSON line: seconds, solver details,
// metrics.
#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "cfma/core/config.hpp"
#include "cfma/par/world.hpp"
#include "cfma/probe/probe.hpp"
#include "cfma/probe/probe_config.hpp"
#include "cfma/store/h5.hpp"

int main(int argc, char** argv) {
  using namespace cfma;
  par::World world(argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_probe FILE [key=value ...]\n");
    return 2;
  }
  const std::filesystem::path file = argv[1];
  // key=value pairs are [probe] overrides, parsed by the job's own config code.
  std::vector<std::string> overrides;
  for (int i = 2; i < argc; ++i) overrides.push_back(std::string("probe.") + argv[i]);
  const auto config = probe::parse_probe_config(
      ConfigDoc::from_string("[probe]\ninclude_input = false\n", "bench_probe", overrides));
  auto& comm = par::World::comm();
  const auto labels = probe::load_probe_labels(file);
  const auto dims = store::File::open_serial(file).dims("/X");
  store::FeatureSet set;
  set.name = "bench";
  set.rows = static_cast<std::int64_t>(dims[0]);
  set.blocks.push_back({file, "/X", 0, static_cast<std::int64_t>(dims[1])});
  comm.barrier();
  const auto start = std::chrono::steady_clock::now();
  const auto result = probe::probe_feature_set(comm, set, labels, config);
  comm.barrier();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (comm.rank() == 0) {
    auto out = probe::to_json(result);
    out["seconds"] = seconds;
    out["ranks"] = comm.size();
    std::printf("%s\n", out.dump().c_str());
  }
  return 0;
}
