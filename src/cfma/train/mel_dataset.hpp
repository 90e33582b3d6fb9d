#pragma once
// Network inputs and targets from features.h5, read row by row (a rank never loads the whole
// set). Inputs are standardised with ONE scalar mean and population sd over all train mel_db
// values (reference-spec 1.5); regression targets with the train mean and population sd (1.4).
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <ATen/Tensor.h>
#include <boost/mpi/communicator.hpp>

#include "cfma/store/h5.hpp"
#include "cfma/train/train_config.hpp"

namespace cfma::train {

struct InputStats {
  double mean = 0;
  double sd = 1;
};

class MelDataset {
 public:
  // Opens `features_h5` and checks its schema (clear StoreError otherwise). The input
  // statistics are computed by a reduction over `comm` (each rank sums a block of the train
  // rows; per-example partial sums are combined in row order, so the result does not depend
  // on the number of ranks).
  MelDataset(const std::filesystem::path& features_h5, Task task, const boost::mpi::communicator& comm);

  const std::vector<std::int64_t>& train_rows() const { return train_; }
  const std::vector<std::int64_t>& test_rows() const { return test_; }
  int num_classes() const { return num_classes_; }
  std::vector<std::string> class_names() const { return class_names_; }
  int num_outputs() const { return task_ == Task::family ? num_classes_ : 1; }
  const InputStats& input_stats() const { return input_; }
  double target_mean() const { return target_mean_; }
  double target_sd() const { return target_sd_; }
  std::int64_t height() const { return height_; }
  std::int64_t width() const { return width_; }

  // x: [n,1,H,W] float (standardised); y: [n] int64 class or float standardised target.
  void load(std::span<const std::int64_t> rows, at::Tensor& x, at::Tensor& y);
  // Raw target in original units (class label for family).
  double raw_target(std::int64_t row) const { return targets_[static_cast<std::size_t>(row)]; }

 private:
  store::File file_;
  Task task_;
  std::vector<std::int64_t> train_, test_;
  std::vector<double> targets_;
  int num_classes_ = 0;
  std::vector<std::string> class_names_;
  InputStats input_;
  double target_mean_ = 0, target_sd_ = 1;
  std::int64_t height_ = 0, width_ = 0;
  std::vector<float> buffer_;
};

}  // namespace cfma::train
