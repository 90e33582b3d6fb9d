// Data-parallel training under MPI (ctest runs this at 1, 2 and 4 ranks) on a small seeded
// features.h5: step losses agree with a single-rank run, replicas stay bitwise identical,
// regression reports RMSE in original units, bad input gives one clear error and overwrites
// nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <mpi.h>
#include <nlohmann/json.hpp>

#include "cfma/core/config.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/manifest.hpp"
#include "cfma/par/world.hpp"
#include "cfma/train/trainer.hpp"
#include "tests/test_paths.hpp"
#include "tests/train/train_fixture.hpp"

namespace cfma::train {
namespace {
namespace fs = std::filesystem;
using test::file_bytes;

TrainConfig small_config() {
  TrainConfig c;
  c.architectures = {"regular"};
  c.tasks = {"family"};
  c.seeds = {1};
  c.epochs = 3;
  c.batch_size = 8;  // 72 train rows: 9 steps per epoch, 27 in all
  c.learning_rate = 0.005;
  c.momentum = 0.9;
  c.shuffle = true;
  c.verify_replicas = true;  // the trainer all-gathers parameter hashes after each epoch
  c.threads = 1;
  c.micro_batch = 2;  // 4 micro-batches per global batch: every rank has work at 4 ranks
  return c;
}

RunContext context_for(const RunSpec& spec, const TrainConfig& config, const fs::path& features,
                       const fs::path& run_dir) {
  RunContext ctx;
  ctx.features_h5 = features;
  ctx.run_dir = run_dir;
  ctx.stage_key_config = to_json(config);
  ctx.stage_key_config["run"] = spec.name();
  ctx.features_fingerprint = fs::exists(features) ? output_fingerprint(features) : "missing";
  ctx.threads = 1;
  return ctx;
}

// A barrier that sleeps while waiting, so ranks parked during rank 0's single-rank run do not
// spin on the (oversubscribed) cores that run it.
void sleeping_barrier(const boost::mpi::communicator& comm) {
  MPI_Request request;
  MPI_Ibarrier(MPI_Comm(comm), &request);
  int done = 0;
  while (true) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

struct FamilyRuns {
  fs::path dir;
  RunResult full;    // all ranks of the world
  RunResult single;  // rank 0 alone (broadcast to every rank)
};

// Trains the same family run twice: data parallel on the whole world, then on rank 0 alone.
const FamilyRuns& family_runs() {
  static const FamilyRuns runs = [] {
    auto& world = par::World::comm();
    FamilyRuns r;
    r.dir = test::scratch_dir("train-family");
    test::write_train_fixture(r.dir / "features.h5", test::TrainFixture{}, world);
    const auto config = small_config();
    const RunSpec spec{"regular", Task::family, 1};
    r.full = train_run(spec, config, context_for(spec, config, r.dir / "features.h5", r.dir / "full"), world);
    const auto alone = world.split(world.rank() == 0 ? 0 : 1);
    if (world.rank() == 0)
      r.single = train_run(spec, config, context_for(spec, config, r.dir / "features.h5", r.dir / "single"), alone);
    sleeping_barrier(world);
    boost::mpi::broadcast(world, r.single.step_losses, 0);
    boost::mpi::broadcast(world, r.single.parameter_hash, 0);
    return r;
  }();
  return runs;
}

TEST(TrainMpi, StepLossesAndWeightsBitIdenticalToSingleRank) {
  // Micro-batches (train.micro_batch): every step's loss and the final parameters have the same
  // bits on 1, 2 and 4 ranks.
  const auto& runs = family_runs();
  ASSERT_EQ(runs.full.step_losses.size(), 27u);
  ASSERT_EQ(runs.single.step_losses.size(), 27u);
  for (std::size_t i = 0; i < runs.full.step_losses.size(); ++i) {
    ASSERT_TRUE(std::isfinite(runs.single.step_losses[i]) && runs.single.step_losses[i] > 0) << "step " << i;
    EXPECT_EQ(runs.full.step_losses[i], runs.single.step_losses[i])
        << "step " << i << ": " << par::World::size() << " ranks vs 1";
  }
  EXPECT_EQ(runs.full.parameter_hash, runs.single.parameter_hash) << par::World::size() << " ranks vs 1";
  // The net learns something on the fixture (the family lifts a band of mel rows).
  EXPECT_LT(runs.single.step_losses.back(), runs.single.step_losses.front());
}

TEST(TrainMpi, AllReduceStepAgreesWithSingleRankToRounding) {
  // micro_batch = 0: one all-reduce of each rank's slice; the rank count moves the last bits.
  auto& world = par::World::comm();
  const auto dir = test::scratch_dir("train-allreduce");
  test::write_train_fixture(dir / "features.h5", test::TrainFixture{}, world);
  auto config = small_config();
  config.micro_batch = 0;
  config.epochs = 1;
  const RunSpec spec{"regular", Task::family, 1};
  const auto full = train_run(spec, config, context_for(spec, config, dir / "features.h5", dir / "full"), world);
  const auto alone = world.split(world.rank() == 0 ? 0 : 1);
  RunResult single;
  if (world.rank() == 0) single = train_run(spec, config, context_for(spec, config, dir / "features.h5", dir / "single"), alone);
  sleeping_barrier(world);
  boost::mpi::broadcast(world, single.step_losses, 0);
  ASSERT_EQ(full.step_losses.size(), 9u);
  ASSERT_EQ(single.step_losses.size(), 9u);
  double worst = 0;
  for (std::size_t i = 0; i < 9; ++i) {
    const double rel = std::abs(full.step_losses[i] - single.step_losses[i]) / std::abs(single.step_losses[i]);
    worst = std::max(worst, rel);
    EXPECT_LE(rel, 1e-5) << "step " << i << ": " << world.size() << " ranks " << full.step_losses[i] << ", 1 rank "
                         << single.step_losses[i];
  }
  if (world.rank() == 0)
    std::printf("all-reduce step losses, %d ranks vs 1: worst relative difference over 9 steps %.3g\n", world.size(), worst);
}

TEST(TrainMpi, ReplicasBitwiseIdenticalAndOutputsWritten) {
  const auto& runs = family_runs();
  auto& world = par::World::comm();
  std::vector<std::string> hashes;
  boost::mpi::all_gather(world, runs.full.parameter_hash, hashes);
  ASSERT_EQ(static_cast<int>(hashes.size()), world.size());
  for (std::size_t r = 1; r < hashes.size(); ++r) EXPECT_EQ(hashes[r], hashes[0]) << "rank " << r;
  EXPECT_EQ(runs.full.epochs_done, 3);
  const fs::path run = runs.dir / "full";
  for (const auto* name : {"model.pt", "model.json", "checkpoint.pt", "history.csv", "confusion.csv", "model.pt.manifest.json"})
    EXPECT_TRUE(fs::exists(run / name)) << name;
  const auto info = nlohmann::json::parse(file_bytes(run / "model.json"));
  EXPECT_EQ(info["parameter_hash"], hashes[0]);
  EXPECT_EQ(info["ranks"], world.size());
  EXPECT_EQ(info["num_outputs"], 4);
  // history.csv: header + one row per epoch.
  const auto history = file_bytes(run / "history.csv");
  EXPECT_EQ(std::count(history.begin(), history.end(), '\n'), 4);
  EXPECT_EQ(history.rfind("epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n", 0), 0u);
  if (world.size() == 1) {
    EXPECT_EQ(runs.full.parameter_hash, runs.single.parameter_hash);
  }
  // A second call with the same config and inputs is up to date.
  const auto config = small_config();
  const RunSpec spec{"regular", Task::family, 1};
  const auto again = train_run(spec, config, context_for(spec, config, runs.dir / "features.h5", run), world);
  EXPECT_TRUE(again.skipped);
}

TEST(TrainMpi, PitchRegressionReportsRmseInOriginalUnits) {
  auto& world = par::World::comm();
  const auto dir = test::scratch_dir("train-pitch");
  const test::TrainFixture fixture;
  test::write_train_fixture(dir / "features.h5", fixture, world);
  auto config = small_config();
  config.tasks = {"pitch"};
  config.epochs = 2;
  config.batch_size = 24;
  const RunSpec spec{"regular", Task::pitch, 1};
  const auto result = train_run(spec, config, context_for(spec, config, dir / "features.h5", dir / "run"), world);
  ASSERT_EQ(result.epochs_done, 2);
  // Population sd of the train targets: the trainer standardises with it, and RMSE in original
  // units is sqrt(mean standardised squared error) * sd.
  const auto labels = test::fixture_labels(fixture);
  double mean = 0, ss = 0;
  for (const auto r : labels.train) mean += labels.pitch[static_cast<std::size_t>(r)];
  mean /= static_cast<double>(labels.train.size());
  for (const auto r : labels.train) ss += std::pow(labels.pitch[static_cast<std::size_t>(r)] - mean, 2);
  const double sd = std::sqrt(ss / static_cast<double>(labels.train.size()));
  ASSERT_GT(sd, 15.0);  // pitches uniform on 21..108
  EXPECT_NEAR(result.train_metric, std::sqrt(result.train_loss) * sd, 1e-6 * sd);
  EXPECT_NEAR(result.test_metric, std::sqrt(result.test_loss) * sd, 1e-6 * sd);
  EXPECT_GT(result.test_metric, 3.0);   // semitones, not standardised units (~1)
  EXPECT_LT(result.test_metric, 200.0);
  EXPECT_EQ(result.step_losses.size(), 6u);  // 72 rows / 24 x 2 epochs
  const auto info = nlohmann::json::parse(file_bytes(dir / "run" / "model.json"));
  EXPECT_EQ(info["task"], "pitch");
  EXPECT_EQ(info["num_outputs"], 1);
  EXPECT_NEAR(info["target_sd"].get<double>(), sd, 1e-9);
  EXPECT_NEAR(info["target_mean"].get<double>(), mean, 1e-9);
  const auto history = file_bytes(dir / "run" / "history.csv");
  EXPECT_EQ(history.rfind("epoch,train_loss,train_rmse,test_loss,test_rmse,seconds\n", 0), 0u);
  EXPECT_FALSE(fs::exists(dir / "run" / "confusion.csv"));
}

// Runs `body`, which must throw `E` on every rank with a message containing each of `needles`.
template <class E, class F>
void expect_error(F&& body, const std::vector<std::string>& needles) {
  try {
    body();
    ADD_FAILURE() << "no error thrown";
  } catch (const E& e) {
    const std::string what = e.what();
    for (const auto& n : needles) EXPECT_NE(what.find(n), std::string::npos) << "'" << n << "' not in: " << what;
  }
}

TEST(TrainMpi, BadInputGivesOneClearErrorAndOverwritesNothing) {
  auto& world = par::World::comm();
  const auto dir = test::scratch_dir("train-bad");
  const auto features = dir / "features.h5";
  test::write_train_fixture(features, test::TrainFixture{}, world);
  auto config = small_config();
  config.epochs = 1;
  config.batch_size = 36;
  const RunSpec spec{"regular", Task::family, 1};
  const fs::path run = dir / "run";
  train_run(spec, config, context_for(spec, config, features, run), world);
  const std::vector<std::string> outputs = {"model.pt", "model.json", "checkpoint.pt", "history.csv",
                                            "model.pt.manifest.json"};
  std::vector<std::string> before;
  for (const auto& o : outputs) before.push_back(file_bytes(run / o));
  ASSERT_FALSE(before[0].empty());
  const auto unchanged = [&](const std::string& what) {
    for (std::size_t i = 0; i < outputs.size(); ++i)
      EXPECT_EQ(file_bytes(run / outputs[i]), before[i]) << outputs[i] << " changed by: " << what;
  };

  // A run directory from a different config (another learning rate).
  auto other = config;
  other.learning_rate = 0.01;
  expect_error<TrainError>([&] { train_run(spec, other, context_for(spec, other, features, run), world); },
                           {run.string(), "different config"});
  unchanged("a different config");

  // A checkpoint of a different config in a run directory without a final model.
  const fs::path resumed = dir / "resume";
  if (world.rank() == 0) {
    fs::create_directories(resumed);
    fs::copy_file(run / "checkpoint.pt", resumed / "checkpoint.pt");
  }
  world.barrier();
  expect_error<TrainError>([&] { train_run(spec, other, context_for(spec, other, features, resumed), world); },
                           {(resumed / "checkpoint.pt").string(), "different config"});
  EXPECT_EQ(file_bytes(resumed / "checkpoint.pt"), before[2]);
  EXPECT_FALSE(fs::exists(resumed / "model.pt"));

  // Missing features.h5: into a fresh directory, and with --force into the finished one.
  const fs::path missing = dir / "absent" / "features.h5";
  expect_error<Error>([&] { train_run(spec, config, context_for(spec, config, missing, dir / "fresh"), world); },
                      {missing.string()});
  EXPECT_FALSE(fs::exists(dir / "fresh" / "model.pt"));
  EXPECT_FALSE(fs::exists(dir / "fresh" / "checkpoint.pt"));
  auto forced = context_for(spec, config, missing, run);
  forced.force = true;
  expect_error<Error>([&] { train_run(spec, config, forced, world); }, {missing.string(), "no such file"});
  unchanged("a missing features.h5");

  // features.h5 without /labels/pitch, for a pitch run.
  const auto no_pitch = dir / "no_pitch.h5";
  test::TrainFixture fixture;
  fixture.omit_labels = {"pitch"};
  test::write_train_fixture(no_pitch, fixture, world);
  auto pitch_config = config;
  pitch_config.tasks = {"pitch"};
  const RunSpec pitch_spec{"regular", Task::pitch, 1};
  auto pitch_ctx = context_for(pitch_spec, pitch_config, no_pitch, run);
  pitch_ctx.force = true;
  expect_error<StoreError>([&] { train_run(pitch_spec, pitch_config, pitch_ctx, world); },
                           {no_pitch.string(), "/labels/pitch"});
  unchanged("a features.h5 without /labels/pitch");

  // Unknown architecture (the trainer's model factory) and unknown task (config and parser).
  const RunSpec bad_arch{"resnet", Task::family, 1};
  auto arch_ctx = context_for(bad_arch, config, features, run);
  arch_ctx.force = true;
  expect_error<ModelError>([&] { train_run(bad_arch, config, arch_ctx, world); }, {"resnet", "regular"});
  unchanged("an unknown architecture");
  const auto doc = ConfigDoc::from_string("[train]\ntasks = [\"timbre\"]\n", "bad_task.toml");
  expect_error<ConfigError>([&] { parse_train_config(doc); }, {"bad_task.toml", "train.tasks", "timbre"});
  expect_error<TrainError>([&] { parse_task("timbre"); }, {"timbre", "family, pitch, velocity"});
}

}  // namespace
}  // namespace cfma::train
