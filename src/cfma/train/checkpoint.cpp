#include "cfma/train/checkpoint.hpp"

#include <sstream>

#include <vector>

#include <torch/serialize.h>
#include <torch/types.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/error.hpp"

namespace cfma::train {
namespace fs = std::filesystem;

namespace {

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

}  // namespace

void save_archive_file(torch::serialize::OutputArchive& archive, const fs::path& file) {
  // Serialised in memory, written by write_file: LibTorch's file writer throws from its
  // destructor when a write fails (a full disk), which ends the process in std::terminate.
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file(file, bytes.view());
}

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
  save_archive_file(archive, out.temp_path());
  out.commit();
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

nlohmann::json read_checkpoint_meta(const fs::path& file) {
  auto archive = open_checkpoint(file);
  return read_meta(archive);
}

}  // namespace cfma::train
