#include "cfma/train/mel_dataset.hpp"

#include <cmath>

#include <ATen/ATen.h>

#include "cfma/core/error.hpp"
#include "cfma/par/reduce.hpp"
#include "cfma/par/world.hpp"
#include "cfma/store/schema.hpp"

namespace cfma::train {

MelDataset::MelDataset(const std::filesystem::path& features_h5, Task task,
                       const boost::mpi::communicator& comm)
    : file_(store::File::open_serial(features_h5)), task_(task) {
  namespace schema = store::schema;
  const auto dims = file_.dims(schema::mel_db);
  if (dims.size() != 3)
    throw StoreError(features_h5.string() + ": /mel_db must be [N, n_mels, frames]");
  const auto n = static_cast<std::int64_t>(dims[0]);
  height_ = static_cast<std::int64_t>(dims[1]);
  width_ = static_cast<std::int64_t>(dims[2]);
  train_ = file_.read_all<std::int64_t>(schema::split_train);
  test_ = file_.read_all<std::int64_t>(schema::split_test);
  for (const auto* rows : {&train_, &test_})
    for (const auto r : *rows)
      if (r < 0 || r >= n)
        throw StoreError(features_h5.string() + ": split index " + std::to_string(r) + " out of range");
  if (train_.empty()) throw StoreError(features_h5.string() + ": empty train split");

  const std::string target_ds = task == Task::family ? "family" : task_name(task);
  const auto labels = file_.read_all<std::int32_t>(schema::label(target_ds));
  if (static_cast<std::int64_t>(labels.size()) != n)
    throw StoreError(features_h5.string() + ": /labels/" + target_ds + " has " +
                     std::to_string(labels.size()) + " rows, /mel_db has " + std::to_string(n));
  targets_.assign(labels.begin(), labels.end());
  if (task == Task::family) {
    class_names_ = file_.read_strings(schema::label("family_names"));
    num_classes_ = static_cast<int>(class_names_.size());
    for (const auto v : labels)
      if (v < 0 || v >= num_classes_)
        throw StoreError(features_h5.string() + ": /labels/family value " + std::to_string(v) + " out of range");
  } else {
    double s = 0, ss = 0;
    for (const auto r : train_) s += targets_[static_cast<std::size_t>(r)];
    target_mean_ = s / static_cast<double>(train_.size());
    for (const auto r : train_) {
      const double d = targets_[static_cast<std::size_t>(r)] - target_mean_;
      ss += d * d;
    }
    target_sd_ = std::sqrt(ss / static_cast<double>(train_.size()));
    if (!(target_sd_ > 0)) target_sd_ = 1;
  }

  // Input statistics: per-example sums by the owning rank, combined in row order.
  const auto block = par::block_of(static_cast<std::int64_t>(train_.size()), comm.rank(), comm.size());
  std::vector<double> sums(2 * train_.size(), 0.0);
  const std::int64_t per_example = height_ * width_;
  buffer_.resize(static_cast<std::size_t>(per_example));
  for (std::int64_t i = block.begin; i < block.end; ++i) {
    file_.read_rows<float>(schema::mel_db, static_cast<hsize_t>(train_[static_cast<std::size_t>(i)]), 1, buffer_.data());
    double s = 0, ss = 0;
    for (const float v : buffer_) {
      s += v;
      ss += static_cast<double>(v) * v;
    }
    sums[2 * static_cast<std::size_t>(i)] = s;
    sums[2 * static_cast<std::size_t>(i) + 1] = ss;
  }
  par::all_reduce_sum(comm, std::span<double>(sums));  // each entry has one nonzero contributor
  double total = 0, total_sq = 0;
  for (std::size_t i = 0; i < train_.size(); ++i) {
    total += sums[2 * i];
    total_sq += sums[2 * i + 1];
  }
  const double count = static_cast<double>(train_.size()) * static_cast<double>(per_example);
  input_.mean = total / count;
  input_.sd = std::sqrt(std::max(total_sq / count - input_.mean * input_.mean, 0.0));
  if (!(input_.sd > 0)) input_.sd = 1;
}

void MelDataset::load(std::span<const std::int64_t> rows, at::Tensor& x, at::Tensor& y) {
  const auto n = static_cast<std::int64_t>(rows.size());
  x = at::empty({n, 1, height_, width_}, at::kFloat);
  float* dst = x.data_ptr<float>();
  const std::int64_t per_example = height_ * width_;
  const auto mean = static_cast<float>(input_.mean);
  const auto inv_sd = static_cast<float>(1.0 / input_.sd);
  for (std::int64_t i = 0; i < n; ++i) {
    float* row = dst + i * per_example;
    file_.read_rows<float>(store::schema::mel_db, static_cast<hsize_t>(rows[static_cast<std::size_t>(i)]), 1, row);
    for (std::int64_t k = 0; k < per_example; ++k) row[k] = (row[k] - mean) * inv_sd;
  }
  if (task_ == Task::family) {
    y = at::empty({n}, at::kLong);
    auto* t = y.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < n; ++i) t[i] = static_cast<std::int64_t>(targets_[static_cast<std::size_t>(rows[static_cast<std::size_t>(i)])]);
  } else {
    y = at::empty({n}, at::kFloat);
    auto* t = y.data_ptr<float>();
    for (std::int64_t i = 0; i < n; ++i)
      t[i] = static_cast<float>((targets_[static_cast<std::size_t>(rows[static_cast<std::size_t>(i)])] - target_mean_) / target_sd_);
  }
}

}  // namespace cfma::train
