#include "cfma/train/trainer.hpp"

#include <chrono>
#include <sstream>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "cfma/core/blas_runtime.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/log.hpp"
#include "cfma/core/manifest.hpp"
#include "cfma/nn/architectures.hpp"
#include "cfma/par/test_fault.hpp"
#include "cfma/par/world.hpp"
#include "cfma/train/batches.hpp"
#include "cfma/train/checkpoint.hpp"
#include "cfma/train/evaluate.hpp"
#include "cfma/train/mel_dataset.hpp"
#include "cfma/train/metrics.hpp"
#include "cfma/train/replicas.hpp"
#include "cfma/train/resume.hpp"
#include "cfma/train/run_outputs.hpp"
#include "cfma/train/signals.hpp"
#include "cfma/train/step.hpp"

namespace cfma::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

nn::ModelSpec model_spec_of(const RunSpec& spec, const TrainConfig& config, const MelDataset& data) {
  nn::ModelSpec m;
  m.arch = spec.arch;
  m.num_outputs = data.num_outputs();
  m.double_softmax = config.double_softmax && spec.task == Task::family;
  m.deformable_mode = config.deformable_mode;
  m.seed = spec.seed;
  return m;
}

void add(EpochSums& running, const StepSums& step) {
  running.loss += step.loss;
  running.correct += step.correct;
  running.sq_error += step.sq_error;
  running.count += step.rows;
}

// Records a finished epoch in `result` and returns its history.csv row.
std::string record_epoch(RunResult& result, int epochs_done, const EpochSums& train, const EpochSums& test,
                         Task task, double seconds) {
  result.epochs_done = epochs_done;
  result.train_loss = mean_loss(train);
  result.test_loss = mean_loss(test);
  result.train_metric = metric(train, task);
  result.test_metric = metric(test, task);
  std::ostringstream row;
  row << epochs_done << "," << result.train_loss << "," << result.train_metric << "," << result.test_loss << ","
      << result.test_metric << "," << seconds;
  return row.str();
}

void log_epoch(const RunSpec& spec, int epochs, const RunResult& r, double seconds) {
  const char* metric_name = spec.task == Task::family ? "acc" : "rmse";
  spdlog::info("{} epoch {}/{}: train loss {:.4f} {} {:.3f}, test loss {:.4f} {} {:.3f}, {:.1f} s", spec.name(),
               r.epochs_done, epochs, r.train_loss, metric_name, r.train_metric, r.test_loss, metric_name,
               r.test_metric, seconds);
}

nlohmann::json model_info(const RunSpec& spec, const TrainConfig& config, const nn::ModelSpec& model_spec,
                          const MelDataset& data, int ranks, const std::string& parameter_hash) {
  return {{"run", spec.name()}, {"arch", spec.arch}, {"task", task_name(spec.task)},
          {"seed", spec.seed}, {"num_outputs", data.num_outputs()},
          {"double_softmax", model_spec.double_softmax},
          {"deformable_mode", config.deformable_mode}, {"epochs", config.epochs},
          {"input_mean", data.input_stats().mean}, {"input_sd", data.input_stats().sd},
          {"target_mean", data.target_mean()}, {"target_sd", data.target_sd()},
          {"class_names", data.class_names()}, {"ranks", ranks},
          {"parameter_hash", parameter_hash}};
}

nlohmann::json final_metrics(const RunResult& r) {
  return {{"train_loss", r.train_loss}, {"test_loss", r.test_loss},
          {"train_metric", r.train_metric}, {"test_metric", r.test_metric}};
}

}  // namespace

RunResult train_run(const RunSpec& spec, const TrainConfig& config, const RunContext& ctx,
                    const boost::mpi::communicator& comm) {
  const bool root = comm.rank() == 0;
  const RunFiles files(ctx.run_dir);
  const StageKey key{"train", ctx.stage_key_config, {{"features", ctx.features_fingerprint}}};
  RunResult result;
  const auto start_as = decide_run_start(files, key, ctx.stage_key_config, ctx.force, spec.name(), comm);
  if (start_as == RunStart::up_to_date) {
    result.skipped = true;
    return result;
  }

  at::set_num_threads(ctx.threads);
  set_blas_threads(ctx.threads);  // LibTorch's linear layers run on the system BLAS
  MelDataset data(ctx.features_h5, spec.task, comm);
  const auto model_spec = model_spec_of(spec, config, data);
  auto net = nn::build_model(model_spec);
  broadcast_state(*net, comm);
  torch::optim::SGD optimizer(net->parameters(),
                              torch::optim::SGDOptions(config.learning_rate).momentum(config.momentum));
  // BatchNorm statistics over the global batch; gradients, stop votes and metrics in one all-reduce.
  DataParallelStep step(net, optimizer, comm, spec.task, data.target_sd());

  Checkpoint ck;
  ck.key = key.hash();
  ck.config = ctx.stage_key_config;
  if (start_as == RunStart::resume) {
    ck = load_checkpoint(files.checkpoint, *net, optimizer);
    if (root) spdlog::info("{}: resuming from epoch {} batch {}", spec.name(), ck.epoch, ck.batch);
  }
  const std::string tag = par::shared_tag(comm);
  const auto& train_rows = data.train_rows();
  const auto n_train = static_cast<std::int64_t>(train_rows.size());
  const std::int64_t batches = batch_count(n_train, config.batch_size);

  install_stop_signal_handlers();
  ProgressMeter progress(spec.name(), config.epochs, "epochs", 0.0);
  for (int epoch = ck.epoch; epoch < config.epochs; ++epoch) {
    const auto start = Clock::now();
    const auto order = epoch_order(train_rows, spec.seed, epoch, config.shuffle);
    EpochSums running = ck.batch > 0 ? ck.running : EpochSums{};  // resumed mid-epoch: its partial sums
    const double seconds_before = ck.batch > 0 ? ck.seconds : 0.0;
    net->train();
    for (std::int64_t b = ck.batch; b < batches; ++b) {
      const auto global_rows = global_batch_rows(n_train, b, config.batch_size);
      // Micro-batch mode: this rank's micro-batches of the global batch (batches.hpp).
      const auto plan = micro_batch_plan(global_rows, std::max(config.micro_batch, 1), comm.rank(), comm.size());
      const auto rows = config.micro_batch > 0
                            ? std::vector<std::int64_t>(order.begin() + b * config.batch_size + plan.row_begin,
                                                        order.begin() + b * config.batch_size + plan.row_end)
                            : local_slice(order, b, config.batch_size, comm.rank(), comm.size());
      at::Tensor x, y;
      std::string load_error;
      try {
        data.load(rows, x, y);
        par::test_fault_point("train");
        par::test_unit_delay();
      } catch (const std::exception& e) {
        load_error = e.what();
      }
      par::check_all(comm, load_error);  // a failed read on one rank stops all before the step's collectives
      // Test-only: a throw here is this rank's alone (the others enter the step's BatchNorm
      // all-reduce): the CLI's last resort, MPI_Abort after 3 s, ends the job.
      par::test_fault_point("train_step");
      // forward -> loss / global batch -> backward -> one all-reduce (gradients, stop votes, metrics) -> SGD step
      const auto sums = config.micro_batch > 0 ? step.run_micro(x, y, global_rows, plan, stop_requested())
                                               : step.run(x, y, global_rows, stop_requested());
      add(running, sums);
      result.step_losses.push_back(sums.loss / static_cast<double>(global_rows));
      if (sums.stop) {
        const Checkpoint stop_ck{epoch, b + 1, running, seconds_before + seconds_since(start), ck.history, key.hash(), ck.config};
        par::on_root(comm, [&] { save_checkpoint(files.checkpoint, tag, *net, optimizer, stop_ck); });
        throw Interrupted(spec.name() + ": stopped by signal at epoch " + std::to_string(epoch) + " batch " +
                          std::to_string(b + 1) + "; checkpoint written to " + files.checkpoint.string());
      }
    }
    ck.batch = 0;

    const auto test = evaluate(net, data, spec.task, config.batch_size, comm);
    const double seconds = seconds_before + seconds_since(start);
    ck.history.rows.push_back(record_epoch(result, epoch + 1, running, test.sums, spec.task, seconds));
    par::on_root(comm, [&] {
      log_epoch(spec, config.epochs, result, seconds);
      progress.finish(epoch + 1);
      write_epoch_outputs(files, ck.history, spec.task, test.confusion, data.class_names());
    });
#ifndef NDEBUG
    check_replicas(*net, comm, epoch + 1);
#else
    if (config.verify_replicas) check_replicas(*net, comm, epoch + 1);
#endif
    ck.epoch = epoch + 1;
    if (ck.epoch % config.checkpoint_every == 0 || ck.epoch == config.epochs) {
      par::on_root(comm, [&] { save_checkpoint(files.checkpoint, tag, *net, optimizer, ck); });
    }
  }

  result.parameter_hash = parameter_hash(*net);
  const auto info = model_info(spec, config, model_spec, data, comm.size(), result.parameter_hash);
  par::on_root(comm, [&] { write_final_model(files, tag, *net, info, key, final_metrics(result)); });
  return result;
}

}  // namespace cfma::train
