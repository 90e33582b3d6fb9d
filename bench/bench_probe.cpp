// Logistic (family) probe speed: cfma's distributed L-BFGS probe on a features file written by
// bench/bench_probe.py (which times scikit-learn on the same rows and calls this program).
// Usage: bench_probe FILE [C] [tol]   (FILE: /X [N, D] float32, /labels/*, /split/*)
// Prints one JSON line: seconds (standardise + fit), iterations, evaluations, accuracies.
#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "cfma/par/world.hpp"
#include "cfma/probe/local_rows.hpp"
#include "cfma/probe/logistic.hpp"
#include "cfma/probe/probe.hpp"
#include "cfma/store/h5.hpp"

int main(int argc, char** argv) {
  using namespace cfma;
  par::World world(argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_probe FILE [C] [tol]\n");
    return 2;
  }
  const std::filesystem::path file = argv[1];
  const double C = argc > 2 ? std::stod(argv[2]) : 1.0;
  const double tol = argc > 3 ? std::stod(argv[3]) : 1e-5;
  auto& comm = par::World::comm();
  const auto labels = probe::load_probe_labels(file);
  const auto dims = store::File::open_serial(file).dims("/X");
  store::FeatureSet set;
  set.name = "bench";
  set.rows = static_cast<std::int64_t>(dims[0]);
  set.blocks.push_back({file, "/X", 0, static_cast<std::int64_t>(dims[1])});
  const auto train_rows = probe::local_block(labels.train, comm.rank(), comm.size());
  const auto test_rows = probe::local_block(labels.test, comm.rank(), comm.size());
  auto pick = [&](const std::vector<std::int64_t>& rows) {
    std::vector<int> y;
    for (const auto r : rows) y.push_back(labels.family[static_cast<std::size_t>(r)]);
    return y;
  };
  const auto y_train = pick(train_rows), y_test = pick(test_rows);
  probe::LocalRows train(set, train_rows, 2048, true), test(set, test_rows, 2048, true);
  // Load outside the timed region (sklearn's side gets its arrays already in memory too).
  train.for_each_chunk([](std::int64_t, const probe::ConstRowBlock&) {});
  test.for_each_chunk([](std::int64_t, const probe::ConstRowBlock&) {});
  comm.barrier();
  const auto start = std::chrono::steady_clock::now();
  const auto stats = probe::column_stats(comm, train);
  train.standardise(stats.mean, stats.inv_scale());
  test.standardise(stats.mean, stats.inv_scale());
  const auto model = probe::fit_logistic(comm, train, y_train, labels.classes, C, {tol, 1000, 10, 60});
  comm.barrier();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto train_metrics = probe::evaluate_logistic(comm, train, y_train, model);
  const auto test_metrics = probe::evaluate_logistic(comm, test, y_test, model);
  if (comm.rank() == 0)
    std::printf("%s\n", nlohmann::json{{"seconds", seconds}, {"ranks", comm.size()}, {"iterations", model.solver.iterations},
                                       {"evaluations", model.solver.evaluations}, {"stop", model.solver.stop_reason},
                                       {"grad_max", model.solver.grad_max},
                                       {"train_accuracy", train_metrics.accuracy},
                                       {"test_accuracy", test_metrics.accuracy}}.dump().c_str());
  return 0;
}
