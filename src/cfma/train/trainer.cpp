#include "cfma/train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

#include <boost/mpi/collectives.hpp>
#include <mpi.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/blas_runtime.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/hash.hpp"
#include "cfma/core/log.hpp"
#include "cfma/core/manifest.hpp"
#include "cfma/nn/architectures.hpp"
#include "cfma/par/reduce.hpp"
#include "cfma/par/world.hpp"
#include "cfma/train/batches.hpp"
#include "cfma/train/mel_dataset.hpp"
#include "cfma/train/signals.hpp"
#include "cfma/train/step.hpp"

namespace cfma::train {
namespace fs = std::filesystem;

namespace {

struct EpochSums {  // running metrics of a pass, summed over ranks
  double loss = 0;      // sum of per-example losses (standardised units for regression)
  double correct = 0;   // family
  double sq_error = 0;  // regression, original units
  double count = 0;
};

struct History {
  std::vector<std::string> rows;  // CSV lines without header
  std::string csv(Task task) const {
    std::string header = task == Task::family
                             ? "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n"
                             : "epoch,train_loss,train_rmse,test_loss,test_rmse,seconds\n";
    for (const auto& r : rows) header += r + "\n";
    return header;
  }
};

std::vector<at::Tensor> state_tensors(torch::nn::Module& model) {
  std::vector<at::Tensor> out;
  for (auto& p : model.parameters()) out.push_back(p);
  for (auto& b : model.buffers()) out.push_back(b);
  return out;
}

std::string hash_tensors(const std::vector<at::Tensor>& tensors) {
  Hasher h;
  for (const auto& t : tensors) {
    const auto c = t.contiguous();
    h.bytes(c.data_ptr(), static_cast<std::size_t>(c.numel()) * c.element_size());
  }
  return h.hex();
}

// Broadcast every parameter and buffer from rank 0 (a safety net: seeded init already agrees).
void broadcast_state(torch::nn::Module& model, const boost::mpi::communicator& comm) {
  if (comm.size() == 1) return;
  for (auto& t : state_tensors(model)) {
    auto c = t.detach();
    MPI_Bcast(c.data_ptr(), static_cast<int>(c.numel() * c.element_size()), MPI_BYTE, 0, MPI_Comm(comm));
  }
}

void check_replicas(torch::nn::Module& model, const boost::mpi::communicator& comm, int epoch) {
  const std::string mine = hash_tensors(state_tensors(model));
  std::vector<std::string> all;
  boost::mpi::all_gather(comm, mine, all);
  for (std::size_t r = 0; r < all.size(); ++r)
    if (all[r] != all[0])
      throw TrainError("replicas diverged after epoch " + std::to_string(epoch) + ": rank " +
                       std::to_string(r) + " parameter hash " + all[r] + " != rank 0 " + all[0]);
}

struct Checkpoint {
  int epoch = 0;       // completed epochs
  std::int64_t batch = 0;  // batches of `epoch` already done (mid-epoch stop)
  EpochSums running;   // partial train sums of the interrupted epoch
  double seconds = 0;  // time spent in the interrupted epoch
  History history;
  std::string key;
  nlohmann::json config;  // the stage config the key was made of (tells "stale" from "foreign")
};

void save_checkpoint(const fs::path& file, const std::string& tag, torch::nn::Module& model,
                     torch::optim::SGD& optimizer, const Checkpoint& c) {
  torch::serialize::OutputArchive archive;
  model.save(archive);
  torch::serialize::OutputArchive optim_archive;
  optimizer.save(optim_archive);
  archive.write("optimizer", optim_archive);
  nlohmann::json meta = {{"epoch", c.epoch}, {"batch", c.batch}, {"seconds", c.seconds},
                         {"running", {c.running.loss, c.running.correct, c.running.sq_error, c.running.count}},
                         {"history", c.history.rows}, {"key", c.key}, {"config", c.config}};
  const std::string text = meta.dump();
  archive.write("meta", torch::from_blob(const_cast<char*>(text.data()), {static_cast<std::int64_t>(text.size())}, at::kChar).clone());
  AtomicOutput out(file, tag);
  archive.save_to(out.temp_path().string());
  out.commit();
}

nlohmann::json read_meta(torch::serialize::InputArchive& archive) {
  at::Tensor meta_tensor;
  archive.read("meta", meta_tensor);
  const std::string text(static_cast<const char*>(meta_tensor.data_ptr()), static_cast<std::size_t>(meta_tensor.numel()));
  return nlohmann::json::parse(text);
}

torch::serialize::InputArchive open_checkpoint(const fs::path& file) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(file.string());
  } catch (const c10::Error&) {
    throw TrainError(file.string() + ": cannot read checkpoint (damaged?)");
  }
  return archive;
}

Checkpoint load_checkpoint(const fs::path& file, torch::nn::Module& model, torch::optim::SGD& optimizer) {
  auto archive = open_checkpoint(file);
  model.load(archive);
  torch::serialize::InputArchive optim_archive;
  archive.read("optimizer", optim_archive);
  optimizer.load(optim_archive);
  const auto meta = read_meta(archive);
  Checkpoint c;
  c.epoch = meta["epoch"];
  c.batch = meta["batch"];
  c.seconds = meta["seconds"];
  const auto& r = meta["running"];
  c.running = {r[0], r[1], r[2], r[3]};
  c.history.rows = meta["history"].get<std::vector<std::string>>();
  c.key = meta["key"];
  c.config = meta.value("config", nlohmann::json());
  return c;
}

// Adds this batch's metrics (loss sum, correct count / squared error in original units).
void accumulate(EpochSums& sums, const at::Tensor& output, const at::Tensor& target, double loss,
                Task task, double target_sd, std::vector<double>* confusion, int classes) {
  const auto n = output.size(0);
  sums.loss += loss;
  sums.count += static_cast<double>(n);
  if (task == Task::family) {
    const auto predicted = output.argmax(1);
    sums.correct += predicted.eq(target).sum().item<double>();
    if (confusion) {
      const auto* p = predicted.data_ptr<std::int64_t>();
      const auto* t = target.data_ptr<std::int64_t>();
      for (std::int64_t i = 0; i < n; ++i) (*confusion)[static_cast<std::size_t>(t[i] * classes + p[i])] += 1;
    }
  } else {
    const auto diff = (output.reshape({-1}) - target) * target_sd;
    sums.sq_error += diff.pow(2).sum().item<double>();
  }
}

double metric(const EpochSums& s, Task task) {
  if (s.count == 0) return 0;
  return task == Task::family ? 100.0 * s.correct / s.count : std::sqrt(s.sq_error / s.count);
}

void reduce_sums(EpochSums& s, const boost::mpi::communicator& comm) {
  std::array<double, 4> v{s.loss, s.correct, s.sq_error, s.count};
  par::all_reduce_sum(comm, std::span<double>(v));
  s = {v[0], v[1], v[2], v[3]};
}

}  // namespace

RunResult train_run(const RunSpec& spec, const TrainConfig& config, const RunContext& ctx,
                    const boost::mpi::communicator& comm) {
  const bool root = comm.rank() == 0;
  const fs::path model_file = ctx.run_dir / "model.pt";
  const fs::path checkpoint_file = ctx.run_dir / "checkpoint.pt";
  StageKey key{"train", ctx.stage_key_config, {{"features", ctx.features_fingerprint}}};
  RunResult result;

  // Decided on rank 0: up to date; a run directory of another config (refused: nothing is
  // overwritten); a stale one (same config, recomputed inputs: retrained from scratch); or a
  // checkpoint of this very run to resume.
  enum State : int { fresh, up_to_date, foreign, resume };
  int state = fresh;
  std::string error;
  fs::path foreign_file = model_file.string() + ".manifest.json";
  if (root) {
    try {
      if (!ctx.force && is_up_to_date(model_file, key)) {
        state = up_to_date;
      } else if (const auto m = read_manifest(model_file); m && !ctx.force && m->value("config", nlohmann::json()) != ctx.stage_key_config) {
        state = foreign;
      } else if (m && !ctx.force) {
        // Finished with this config on other inputs: its checkpoint is stale too.
        spdlog::warn("{}: inputs changed since this run was trained: retraining", spec.name());
      } else if (fs::exists(checkpoint_file) && !ctx.force) {
        auto archive = open_checkpoint(checkpoint_file);
        const auto meta = read_meta(archive);
        if (meta.value("key", "") == key.hash()) state = resume;
        else if (meta.value("config", nlohmann::json()) != ctx.stage_key_config) state = foreign, foreign_file = checkpoint_file;
        else spdlog::warn("{}: inputs changed since checkpoint.pt was written: training from scratch", spec.name());
      }
    } catch (const Error& e) {
      error = e.what();
    }
  }
  par::check_all(comm, error);
  boost::mpi::broadcast(comm, state, 0);
  if (state == foreign) {
    std::string name = foreign_file.string();
    boost::mpi::broadcast(comm, name, 0);
    throw TrainError(name + ": belongs to a run of a different config; nothing was overwritten "
                     "(use another workdir, or --force to retrain)");
  }
  if (state == up_to_date) {
    result.skipped = true;
    return result;
  }

  at::set_num_threads(ctx.threads);
  set_blas_threads(ctx.threads);  // LibTorch's linear layers run on the system BLAS
  MelDataset data(ctx.features_h5, spec.task, comm);
  nn::ModelSpec model_spec;
  model_spec.arch = spec.arch;
  model_spec.num_outputs = data.num_outputs();
  model_spec.double_softmax = config.double_softmax && spec.task == Task::family;
  model_spec.deformable_mode = config.deformable_mode;
  model_spec.seed = spec.seed;
  auto net = nn::build_model(model_spec);
  broadcast_state(*net, comm);
  torch::optim::SGD optimizer(net->parameters(),
                              torch::optim::SGDOptions(config.learning_rate).momentum(config.momentum));
  // BatchNorm statistics over the global batch; gradients, stop votes and metrics in one all-reduce.
  DataParallelStep step(net, optimizer, comm, spec.task, data.target_sd());

  Checkpoint ck;
  ck.key = key.hash();
  ck.config = ctx.stage_key_config;
  if (state == resume) {
    ck = load_checkpoint(checkpoint_file, *net, optimizer);
    if (root) spdlog::info("{}: resuming from epoch {} batch {}", spec.name(), ck.epoch, ck.batch);
  }
  const std::string tag = par::shared_tag(comm);
  const int classes = data.num_classes();
  const auto& train_rows = data.train_rows();
  const auto n_train = static_cast<std::int64_t>(train_rows.size());
  const std::int64_t batches = batch_count(n_train, config.batch_size);

  install_stop_signal_handlers();
  ProgressMeter progress(spec.name(), config.epochs, "epochs", 0.0);
  for (int epoch = ck.epoch; epoch < config.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const auto order = epoch_order(train_rows, spec.seed, epoch, config.shuffle);
    EpochSums running = ck.batch > 0 ? ck.running : EpochSums{};
    const double seconds_before = ck.batch > 0 ? ck.seconds : 0.0;
    net->train();
    for (std::int64_t b = ck.batch; b < batches; ++b) {
      const auto rows = local_slice(order, b, config.batch_size, comm.rank(), comm.size());
      const auto global_rows = global_batch_rows(n_train, b, config.batch_size);
      at::Tensor x, y;
      data.load(rows, x, y);
      const auto sums = step.run(x, y, global_rows, stop_requested());
      running.loss += sums.loss;
      running.correct += sums.correct;
      running.sq_error += sums.sq_error;
      running.count += sums.rows;
      result.step_losses.push_back(sums.loss / static_cast<double>(global_rows));
      if (sums.stop) {
        Checkpoint stop_ck{epoch, b + 1, running,
                           seconds_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                           ck.history, key.hash(), ck.config};
        if (root) save_checkpoint(checkpoint_file, tag, *net, optimizer, stop_ck);
        comm.barrier();
        throw Interrupted(spec.name() + ": stopped by signal at epoch " + std::to_string(epoch) + " batch " +
                          std::to_string(b + 1) + "; checkpoint written to " + checkpoint_file.string());
      }
    }
    ck.batch = 0;

    // Test pass: each rank evaluates its block of the test rows with the running statistics.
    net->eval();
    EpochSums test;
    std::vector<double> confusion(static_cast<std::size_t>(classes * classes), 0.0);
    {
      torch::NoGradGuard no_grad;
      const auto& test_rows = data.test_rows();
      const auto block = par::block_of(static_cast<std::int64_t>(test_rows.size()), comm.rank(), comm.size());
      for (std::int64_t i = block.begin; i < block.end; i += config.batch_size) {
        const auto end = std::min<std::int64_t>(block.end, i + config.batch_size);
        at::Tensor x, y;
        data.load(std::span<const std::int64_t>(test_rows.data() + i, static_cast<std::size_t>(end - i)), x, y);
        const auto output = net->forward(x);
        accumulate(test, output, y, loss_sum(output, y, spec.task).item<double>(), spec.task,
                   data.target_sd(), spec.task == Task::family ? &confusion : nullptr, classes);
      }
    }
    reduce_sums(test, comm);
    if (spec.task == Task::family) par::all_reduce_sum(comm, std::span<double>(confusion));
    const double seconds = seconds_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::ostringstream row;
    row << epoch + 1 << "," << running.loss / std::max(running.count, 1.0) << "," << metric(running, spec.task) << ","
        << test.loss / std::max(test.count, 1.0) << "," << metric(test, spec.task) << "," << seconds;
    ck.history.rows.push_back(row.str());
    result.epochs_done = epoch + 1;
    result.train_loss = running.loss / std::max(running.count, 1.0);
    result.test_loss = test.loss / std::max(test.count, 1.0);
    result.train_metric = metric(running, spec.task);
    result.test_metric = metric(test, spec.task);
    if (root) {
      spdlog::info("{} epoch {}/{}: train loss {:.4f} {} {:.3f}, test loss {:.4f} {} {:.3f}, {:.1f} s", spec.name(),
                   epoch + 1, config.epochs, result.train_loss, spec.task == Task::family ? "acc" : "rmse",
                   result.train_metric, result.test_loss, spec.task == Task::family ? "acc" : "rmse",
                   result.test_metric, seconds);
      progress.finish(epoch + 1);
      write_file_atomic(ctx.run_dir / "history.csv", ck.history.csv(spec.task));
      if (spec.task == Task::family) {
        std::string csv = "true\\predicted";
        for (const auto& name : data.class_names()) csv += "," + name;
        csv += "\n";
        for (int t = 0; t < classes; ++t) {
          csv += data.class_names()[static_cast<std::size_t>(t)];
          for (int p = 0; p < classes; ++p) csv += "," + std::to_string(static_cast<long long>(confusion[static_cast<std::size_t>(t * classes + p)]));
          csv += "\n";
        }
        write_file_atomic(ctx.run_dir / "confusion.csv", csv);
      }
    }
#ifndef NDEBUG
    check_replicas(*net, comm, epoch + 1);
#else
    if (config.verify_replicas) check_replicas(*net, comm, epoch + 1);
#endif
    ck.epoch = epoch + 1;
    if (ck.epoch % config.checkpoint_every == 0 || ck.epoch == config.epochs) {
      if (root) save_checkpoint(checkpoint_file, tag, *net, optimizer, ck);
      comm.barrier();
    }
  }

  result.parameter_hash = hash_tensors(state_tensors(*net));
  if (root) {
    AtomicOutput out(model_file, tag);
    torch::serialize::OutputArchive archive;
    net->save(archive);
    archive.save_to(out.temp_path().string());
    out.commit();
    nlohmann::json info = {{"run", spec.name()}, {"arch", spec.arch}, {"task", task_name(spec.task)},
                           {"seed", spec.seed}, {"num_outputs", data.num_outputs()},
                           {"double_softmax", model_spec.double_softmax},
                           {"deformable_mode", config.deformable_mode}, {"epochs", config.epochs},
                           {"input_mean", data.input_stats().mean}, {"input_sd", data.input_stats().sd},
                           {"target_mean", data.target_mean()}, {"target_sd", data.target_sd()},
                           {"class_names", data.class_names()}, {"ranks", comm.size()},
                           {"parameter_hash", result.parameter_hash}};
    write_file_atomic(ctx.run_dir / "model.json", info.dump(2) + "\n");
    write_manifest(model_file, key, {{"final", {{"train_loss", result.train_loss}, {"test_loss", result.test_loss},
                                                {"train_metric", result.train_metric}, {"test_metric", result.test_metric}}}});
  }
  comm.barrier();
  return result;
}

}  // namespace cfma::train
