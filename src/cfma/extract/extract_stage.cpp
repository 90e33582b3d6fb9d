#include "cfma/extract/extract_stage.hpp"

#include <algorithm>
#include <map>
#include <numeric>

#include <boost/mpi/collectives.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/blas_runtime.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/text.hpp"
#include "cfma/core/log.hpp"
#include "cfma/core/manifest.hpp"
#include "cfma/extract/plan.hpp"
#include "cfma/extract/reduce.hpp"
#include "cfma/nn/architectures.hpp"
#include "cfma/par/test_fault.hpp"
#include "cfma/par/world.hpp"
#include "cfma/store/feature_sets.hpp"
#include "cfma/store/h5.hpp"
#include "cfma/store/schema.hpp"
#include "cfma/train/mel_dataset.hpp"

namespace cfma::extract {
namespace {
namespace fs = std::filesystem;
namespace schema = store::schema;

std::string shape_text(const std::array<std::int64_t, 3>& shape) {
  return join({std::to_string(shape[0]), std::to_string(shape[1]), std::to_string(shape[2])}, ",");
}

// Global batches of at most `size` rows: the train rows, then the test rows, in split order.
std::vector<std::vector<std::int64_t>> split_batches(const train::MelDataset& data, int size) {
  std::vector<std::vector<std::int64_t>> batches;
  const auto step = static_cast<std::size_t>(size);
  for (const auto* rows : {&data.train_rows(), &data.test_rows()})
    for (std::size_t i = 0; i < rows->size(); i += step)
      batches.emplace_back(rows->begin() + static_cast<std::ptrdiff_t>(i),
                           rows->begin() + static_cast<std::ptrdiff_t>(std::min(rows->size(), i + step)));
  return batches;
}

// The network of a run: a trained model loaded from its run directory (eval mode), or the
// seeded untrained twin in the configured BatchNorm mode.
nn::Net load_network(const ExtractRun& run, const fs::path& model_dir, const ExtractConfig& config,
                     const train::TrainConfig& train_config, int num_classes, nn::ModelSpec& spec) {
  spec.arch = run.arch;
  spec.seed = run.seed;
  spec.deformable_mode = train_config.deformable_mode;
  spec.num_outputs = num_classes;
  if (run.trained) {
    const auto model_info = nlohmann::json::parse(read_file(model_dir / "model.json"));
    spec.deformable_mode = model_info.value("deformable_mode", train_config.deformable_mode);
    spec.num_outputs = model_info["num_outputs"].get<int>();
    spec.double_softmax = model_info.value("double_softmax", false);
  }
  auto net = nn::build_model(spec);
  if (run.trained) {
    torch::serialize::InputArchive archive;
    try {
      archive.load_from((model_dir / "model.pt").string());
      net->load(archive);
    } catch (const c10::Error&) {
      throw ModelError((model_dir / "model.pt").string() + ": cannot load (damaged, or another architecture)");
    }
    net->eval();
  } else if (config.untrained_bn == "train") {
    net->train();  // batch statistics (paper Q8); running statistics are never saved
  } else {
    net->eval();
  }
  return net;
}

// Returns false when the run has none of the layers (no file).
bool extract_one(const boost::mpi::communicator& comm, const ExtractRun& run, const ExtractConfig& config,
                 const train::TrainConfig& train_config, const WorkPaths& paths, train::MelDataset& data,
                 const std::string& features_fp, const ExtractStageOptions& options) {
  const bool root = comm.rank() == 0;
  const auto output = paths.activations(run.name);
  const auto layers = captured_layers(run.arch, config.layers);
  if (layers.empty()) {
    if (root)
      spdlog::info("extract: {} skipped: architecture {} has none of extract.layers ({})", run.name, run.arch,
                   join(config.layers));
    return false;
  }
  const auto model_dir = paths.run_dir(run.name);
  nlohmann::json inputs = {{"features", features_fp}};
  if (run.trained) inputs["model"] = output_fingerprint(model_dir / "model.pt");
  const StageKey key{"extract", {{"extract", to_json(config)}, {"run", run.name},
                                 {"deformable_mode", train_config.deformable_mode}}, inputs};
  int up_to_date = root && !options.force && is_up_to_date(output, key) ? 1 : 0;
  boost::mpi::broadcast(comm, up_to_date, 0);
  if (up_to_date) {
    spdlog::info("extract: {} up to date, skipped", output.string());
    return true;
  }

  nn::ModelSpec spec;
  auto net = load_network(run, model_dir, config, train_config, data.num_classes(), spec);
  std::vector<std::array<std::int64_t, 3>> shapes;
  for (const auto& info : nn::layer_infos(spec))
    if (std::find(layers.begin(), layers.end(), info.id) != layers.end()) shapes.push_back(info.shape);

  // Global batches in split order; rank r takes a block of them.
  const auto batches = split_batches(data, config.chunk_rows);
  const auto n_rows = static_cast<hsize_t>(store::File::open_serial(paths.features()).dims(schema::mel_db)[0]);
  const auto mine = par::block_of(static_cast<std::int64_t>(batches.size()), comm.rank(), comm.size());
  const auto rounds = par::block_of(static_cast<std::int64_t>(batches.size()), 0, comm.size()).size();

  AtomicOutput out(output, par::shared_tag(comm));
  {
    auto file = store::File::create(out.temp_path(), MPI_Comm(comm));
    // Dataset widths from one forward pass of an all-zero example (exactly what will be stored).
    std::vector<hsize_t> widths;
    {
      torch::NoGradGuard no_grad;
      auto probe = net->is_training() ? nn::build_model(spec) : net;
      probe->eval();
      std::map<std::string, at::Tensor> captured;
      probe->forward(at::zeros({1, 1, data.height(), data.width()}), layers, &captured);
      for (const auto& layer : layers)
        widths.push_back(static_cast<hsize_t>(reduce_activation(captured.at(layer), config.reduce_of(layer)).size(1)));
    }
    for (std::size_t k = 0; k < layers.size(); ++k) {
      const hsize_t chunk_rows = std::max<hsize_t>(1, std::min<hsize_t>(n_rows, (1u << 20) / (4 * widths[k])));
      file.create<float>(schema::layer(layers[k]), {n_rows, widths[k]}, {chunk_rows, widths[k]});
      file.set_attr("shape", shape_text(shapes[k]), schema::layer(layers[k]));
      file.set_attr("reduce", config.reduce_of(layers[k]).name(), schema::layer(layers[k]));
    }
    at::set_num_threads(options.threads);
    set_blas_threads(options.threads);
    ProgressMeter progress("extract " + run.name, static_cast<std::int64_t>(n_rows));
    std::int64_t done = 0;
    for (std::int64_t round = 0; round < rounds; ++round) {
      // Every rank runs the same number of rounds: agree on a stop signal here. The partial
      // file is removed; the next attempt redoes this run and skips the finished ones.
      if (par::stop_agreed(comm))
        throw Interrupted("extract: stopped by signal during " + run.name + "; finished runs are kept");
      const std::int64_t b = mine.begin + round;
      std::vector<std::int64_t> rows;
      std::map<std::string, at::Tensor> captured;
      std::string error;
      try {
        if (b < mine.end) {
          rows = batches[static_cast<std::size_t>(b)];
          at::Tensor x, y;
          data.load(rows, x, y);
          torch::NoGradGuard no_grad;
          net->forward(x, layers, &captured);
        }
        par::test_fault_point("extract");
      } catch (const std::exception& e) {
        error = e.what();
      }
      par::check_all(comm, error);  // before the collective writes
      // Rows ascending for the collective write (test rows may be in numpy order).
      std::vector<std::size_t> order(rows.size());
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](auto a, auto c) { return rows[a] < rows[c]; });
      std::vector<hsize_t> sorted_rows;
      for (const auto i : order) sorted_rows.push_back(static_cast<hsize_t>(rows[i]));
      for (const auto& layer : layers) {
        at::Tensor values;
        if (!rows.empty()) {
          const auto index = at::tensor(std::vector<std::int64_t>(order.begin(), order.end()), at::kLong);
          values = reduce_activation(captured.at(layer), config.reduce_of(layer)).index_select(0, index).contiguous();
        }
        file.write_row_list<float>(schema::layer(layer), sorted_rows, rows.empty() ? nullptr : values.data_ptr<float>());
      }
      done += static_cast<std::int64_t>(rows.size()) * comm.size();
      if (root) progress.update(std::min<std::int64_t>(done, static_cast<std::int64_t>(n_rows)));
    }
    file.set_attr("run", run.name);
    file.set_attr("arch", run.arch);
    file.set_attr("task", run.task);
    file.set_attr("seed", static_cast<std::int64_t>(run.seed));
    file.set_attr("trained", static_cast<std::int64_t>(run.trained ? 1 : 0));
    file.set_attr("features_key", store::features_key(paths.features()));
    // Every layer the architecture has, captured or not: lets the probe stage tell a layer the
    // architecture lacks (skipped) from one the extraction left out (an error).
    file.set_attr("arch_layers", join(nn::layer_ids(run.arch), ","));
    file.close();  // collective; a failed close throws on every rank: no rename, no manifest
  }
  // Every rank has closed the file (collectively); rank 0 renames it and writes the manifest,
  // and every rank learns whether that worked.
  if (!root) out.release();
  par::on_root(comm, [&] {
    out.commit();
    write_manifest(output, key, {{"layers", layers}});
    spdlog::info("extract: wrote {} ({} layers)", output.string(), layers.size());
  });
  return true;
}

}  // namespace

void run_extract_stage(const boost::mpi::communicator& comm, const WorkPaths& paths, const ExtractConfig& config,
                       const train::TrainConfig& train_config, const ExtractStageOptions& options) {
  if (!fs::exists(paths.features()) || !read_manifest(paths.features()))
    throw ModelError(paths.features().string() + ": features store missing or incomplete (run preprocess)");
  const auto runs = extract_runs(train_config, config);
  for (const auto& run : runs)
    if (run.trained && !read_manifest(paths.run_dir(run.name) / "model.pt"))
      throw ModelError(paths.run_dir(run.name).string() + ": no finished model (run the train stage first)");
  const auto features_fp = output_fingerprint(paths.features());
  train::MelDataset data(paths.features(), train::Task::family, comm);
  // The index goes first and comes back last: while it is absent, the probe and similarity
  // stages refuse the activations (a failed or stopped extract leaves runs missing).
  par::on_root(comm, [&] { fs::remove(paths.activations_index()); });
  std::vector<std::string> extracted;
  for (const auto& run : runs)
    if (extract_one(comm, run, config, train_config, paths, data, features_fp, options)) extracted.push_back(run.name);
  if (par::stop_agreed(comm)) throw Interrupted("extract: stopped by signal after its last run");
  par::on_root(comm, [&] { store::write_activations_index(paths, extracted); });
}

}  // namespace cfma::extract
