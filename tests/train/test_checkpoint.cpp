// The pieces beside the training loop that need no features.h5: checkpoint.pt round trip and
// a damaged file (checkpoint.hpp), metrics (metrics.hpp), history.csv and confusion.csv
// (run_outputs.hpp).
#include <gtest/gtest.h>

#include <fstream>

#include <torch/torch.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/error.hpp"
#include "cfma/train/checkpoint.hpp"
#include "cfma/train/metrics.hpp"
#include "cfma/train/run_outputs.hpp"
#include "tests/test_paths.hpp"

namespace cfma::train {
namespace {

TEST(Checkpoint, RoundTripRestoresModelOptimizerAndMeta) {
  const auto dir = test::scratch_dir("train_checkpoint_round_trip");
  torch::manual_seed(3);
  torch::nn::Linear saved(4, 2);
  torch::optim::SGD saved_optimizer(saved->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  saved->forward(torch::ones({1, 4})).sum().backward();
  saved_optimizer.step();  // momentum buffers exist
  saved_optimizer.zero_grad();
  Checkpoint c;
  c.epoch = 2;
  c.batch = 5;
  c.running = {1.5, 3, 0, 7};
  c.seconds = 0.25;
  c.history.rows = {"1,0.5,50,0.6,40,1.0", "2,0.4,60,0.5,45,1.0"};
  c.key = "k123";
  c.config = {{"epochs", 3}};
  save_checkpoint(dir / "checkpoint.pt", "t", *saved, saved_optimizer, c);

  EXPECT_EQ(read_checkpoint_meta(dir / "checkpoint.pt").value("key", ""), "k123");
  torch::manual_seed(4);
  torch::nn::Linear loaded(4, 2);
  torch::optim::SGD loaded_optimizer(loaded->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  ASSERT_FALSE(torch::equal(loaded->weight, saved->weight));  // the check below is not vacuous
  const auto back = load_checkpoint(dir / "checkpoint.pt", *loaded, loaded_optimizer);
  EXPECT_TRUE(torch::equal(loaded->weight, saved->weight));
  EXPECT_TRUE(torch::equal(loaded->bias, saved->bias));
  EXPECT_EQ(back.epoch, 2);
  EXPECT_EQ(back.batch, 5);
  EXPECT_EQ(back.running.correct, 3);
  EXPECT_EQ(back.running.count, 7);
  EXPECT_EQ(back.seconds, 0.25);
  EXPECT_EQ(back.history.rows, c.history.rows);
  EXPECT_EQ(back.key, "k123");
  EXPECT_EQ(back.config, c.config);
  // The same step from both optimizers gives the same parameters only if momentum came back.
  for (auto* m : {&saved, &loaded}) (*m)->forward(torch::ones({1, 4})).sum().backward();
  saved_optimizer.step();
  loaded_optimizer.step();
  EXPECT_TRUE(torch::equal(loaded->weight, saved->weight));
}

TEST(Checkpoint, DamagedFileIsATrainErrorNamingIt) {
  const auto dir = test::scratch_dir("train_checkpoint_damaged");
  std::ofstream(dir / "checkpoint.pt") << "not an archive";
  try {
    read_checkpoint_meta(dir / "checkpoint.pt");
    FAIL() << "no error";
  } catch (const TrainError& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint.pt: cannot read checkpoint"), std::string::npos);
  }
}

TEST(Metrics, AccuracyRmseAndMeanLoss) {
  EpochSums family{6.0, 3, 0, 4};
  EXPECT_DOUBLE_EQ(metric(family, Task::family), 75.0);
  EXPECT_DOUBLE_EQ(mean_loss(family), 1.5);
  EXPECT_DOUBLE_EQ(metric(EpochSums{0, 0, 8.0, 2}, Task::pitch), 2.0);
  EXPECT_EQ(metric(EpochSums{}, Task::family), 0.0);  // nothing seen
  EXPECT_EQ(mean_loss(EpochSums{}), 0.0);

  EpochSums sums;
  std::vector<double> confusion(4, 0.0);
  const auto output = torch::tensor({{2.0f, 1.0f}, {0.0f, 1.0f}, {3.0f, 0.0f}});
  const auto target = torch::tensor({0, 1, 1}, torch::kLong);
  accumulate(sums, output, target, 0.9, Task::family, 1.0, &confusion, 2);
  EXPECT_EQ(sums.count, 3);
  EXPECT_EQ(sums.correct, 2);
  EXPECT_EQ(confusion, (std::vector<double>{1, 0, 1, 1}));  // [true * 2 + predicted]
}

TEST(RunOutputs, HistoryAndConfusionCsv) {
  const auto dir = test::scratch_dir("train_run_outputs");
  const RunFiles files(dir);
  History history;
  history.rows = {"1,0.5,50,0.6,40,1.5"};
  write_epoch_outputs(files, history, Task::family, {3, 1, 0, 2}, {"brass", "flute"});
  EXPECT_EQ(read_file(files.history()),
            "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n1,0.5,50,0.6,40,1.5\n");
  EXPECT_EQ(read_file(files.confusion()), "true\\predicted,brass,flute\nbrass,3,1\nflute,0,2\n");
  write_epoch_outputs(RunFiles(dir / "pitch"), history, Task::pitch, {}, {});
  EXPECT_EQ(read_file(RunFiles(dir / "pitch").history()).substr(0, 50), "epoch,train_loss,train_rmse,test_loss,test_rmse,se");
  EXPECT_FALSE(std::filesystem::exists(RunFiles(dir / "pitch").confusion()));
}

}  // namespace
}  // namespace cfma::train
