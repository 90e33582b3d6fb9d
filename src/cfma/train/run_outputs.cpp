#include "cfma/train/run_outputs.hpp"

#include <torch/serialize.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/train/checkpoint.hpp"

namespace cfma::train {

void write_epoch_outputs(const RunFiles& files, const History& history, Task task,
                         const std::vector<double>& confusion, const std::vector<std::string>& class_names) {
  write_file_atomic(files.history(), history.csv(task));
  if (task != Task::family) return;
  const auto classes = class_names.size();
  std::string csv = "true\\predicted";
  // Appended piece by piece: `"," + std::to_string(...)` trips GCC 12's -Wrestrict false positive.
  for (const auto& name : class_names) (csv += ',') += name;
  csv += "\n";
  for (std::size_t t = 0; t < classes; ++t) {
    csv += class_names[t];
    for (std::size_t p = 0; p < classes; ++p)
      (csv += ',') += std::to_string(static_cast<long long>(confusion[t * classes + p]));
    csv += "\n";
  }
  write_file_atomic(files.confusion(), csv);
}

void write_final_model(const RunFiles& files, const std::string& tag, torch::nn::Module& model,
                       const nlohmann::json& info, const StageKey& key, const nlohmann::json& final_metrics) {
  AtomicOutput out(files.model, tag);
  torch::serialize::OutputArchive archive;
  model.save(archive);
  save_archive_file(archive, out.temp_path());
  out.commit();
  write_file_atomic(files.model_json(), info.dump(2) + "\n");
  write_manifest(files.model, key, {{"final", final_metrics}});
}

}  // namespace cfma::train
