// `cfma extract CONFIG`: activations of every captured layer of every trained run, and of the
// untrained twin of every (architecture, seed), for all train and test examples.
//   Batches follow the split order (train batches, then test batches, of extract.chunk_rows),
//   so an untrained net's batch statistics (paper Q8) do not depend on the number of ranks;
//   rank r takes a block of the batches and writes its rows collectively into
//   activations/<run>.h5 (temporary name, renamed, manifest last).
#include <algorithm>
#include <numeric>

#include <boost/mpi/collectives.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/blas_runtime.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/log.hpp"
#include "cfma/core/manifest.hpp"
#include "cfma/core/paths.hpp"
#include "cfma/core/run_config.hpp"
#include "cfma/nn/architectures.hpp"
#include "cfma/par/world.hpp"
#include "cfma/store/feature_sets.hpp"
#include "cfma/store/h5.hpp"
#include "cfma/store/schema.hpp"
#include "cfma/train/extract_config.hpp"
#include "cfma/train/mel_dataset.hpp"
#include "cfma/train/train_config.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {
namespace {
namespace fs = std::filesystem;
namespace schema = store::schema;

struct ExtractRun {
  std::string name, arch, task;
  std::uint64_t seed = 0;
  bool trained = false;
  fs::path model_dir;
};

void validate(const ConfigDoc& doc) {
  train::parse_extract_config(doc);
  train::parse_train_config(doc);
}

// [B, C, H, W] (or [B, D]) -> [B, D'] as configured.
at::Tensor reduce_activation(const at::Tensor& a, const train::LayerReduce& r) {
  using Kind = train::LayerReduce::Kind;
  if (a.dim() == 4 && r.kind == Kind::channel_mean) return a.mean(1).flatten(1);
  if (a.dim() == 4 && r.kind == Kind::avg_pool) return at::avg_pool2d(a, {r.pool, r.pool}).flatten(1);
  return a.flatten(1);
}

std::string shape_text(const std::array<std::int64_t, 3>& shape) {
  std::string s;
  for (const auto d : shape) s += (s.empty() ? "" : ",") + std::to_string(d);
  return s;
}

void extract_one(const ExtractRun& run, const train::ExtractConfig& config, const train::TrainConfig& train_config,
                 const WorkPaths& paths, train::MelDataset& data, const std::string& features_fp, bool force,
                 int threads) {
  auto& comm = par::World::comm();
  const bool root = comm.rank() == 0;
  const auto output = paths.activations(run.name);
  nlohmann::json inputs = {{"features", features_fp}};
  nlohmann::json model_info;
  if (run.trained) {
    inputs["model"] = output_fingerprint(run.model_dir / "model.pt");
    model_info = nlohmann::json::parse(read_file(run.model_dir / "model.json"));
  }
  const StageKey key{"extract", {{"extract", train::to_json(config)}, {"run", run.name},
                                 {"deformable_mode", train_config.deformable_mode}}, inputs};
  int up_to_date = root && !force && is_up_to_date(output, key) ? 1 : 0;
  boost::mpi::broadcast(comm, up_to_date, 0);
  if (up_to_date) {
    spdlog::info("extract: {} up to date, skipped", output.string());
    return;
  }

  nn::ModelSpec spec;
  spec.arch = run.arch;
  spec.seed = run.seed;
  spec.deformable_mode = run.trained ? model_info.value("deformable_mode", train_config.deformable_mode)
                                     : train_config.deformable_mode;
  spec.num_outputs = run.trained ? model_info["num_outputs"].get<int>() : data.num_classes();
  spec.double_softmax = run.trained && model_info.value("double_softmax", false);
  auto net = nn::build_model(spec);
  if (run.trained) {
    torch::serialize::InputArchive archive;
    try {
      archive.load_from((run.model_dir / "model.pt").string());
      net->load(archive);
    } catch (const c10::Error&) {
      throw ModelError((run.model_dir / "model.pt").string() + ": cannot load (damaged, or another architecture)");
    }
    net->eval();
  } else if (config.untrained_bn == "train") {
    net->train();  // batch statistics (paper Q8); running statistics are never saved
  } else {
    net->eval();
  }

  // Layers this architecture has, in the configured order.
  std::vector<std::string> layers;
  std::vector<std::array<std::int64_t, 3>> shapes;
  for (const auto& info : nn::layer_infos(spec))
    if (std::find(config.layers.begin(), config.layers.end(), info.id) != config.layers.end()) {
      layers.push_back(info.id);
      shapes.push_back(info.shape);
    }
  if (layers.empty()) throw ModelError(run.name + ": none of extract.layers exists in architecture " + run.arch);

  // Global batches in split order; rank r takes a block of them.
  std::vector<std::vector<std::int64_t>> batches;
  for (const auto* rows : {&data.train_rows(), &data.test_rows()})
    for (std::size_t i = 0; i < rows->size(); i += static_cast<std::size_t>(config.chunk_rows))
      batches.emplace_back(rows->begin() + static_cast<std::ptrdiff_t>(i),
                           rows->begin() + static_cast<std::ptrdiff_t>(std::min(rows->size(), i + static_cast<std::size_t>(config.chunk_rows))));
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
      for (std::size_t k = 0; k < layers.size(); ++k)
        widths.push_back(static_cast<hsize_t>(reduce_activation(captured.at(layers[k]), config.reduce_of(layers[k])).size(1)));
    }
    for (std::size_t k = 0; k < layers.size(); ++k) {
      const hsize_t chunk_rows = std::max<hsize_t>(1, std::min<hsize_t>(n_rows, (1u << 20) / (4 * widths[k])));
      file.create<float>(schema::layer(layers[k]), {n_rows, widths[k]}, {chunk_rows, widths[k]});
      file.set_attr("shape", shape_text(shapes[k]), schema::layer(layers[k]));
      file.set_attr("reduce", config.reduce_of(layers[k]).name(), schema::layer(layers[k]));
    }
    at::set_num_threads(threads);
    set_blas_threads(threads);
    ProgressMeter progress("extract " + run.name, static_cast<std::int64_t>(n_rows));
    std::int64_t done = 0;
    for (std::int64_t round = 0; round < rounds; ++round) {
      const std::int64_t b = mine.begin + round;
      std::vector<std::int64_t> rows;
      std::map<std::string, at::Tensor> captured;
      if (b < mine.end) {
        rows = batches[static_cast<std::size_t>(b)];
        at::Tensor x, y;
        data.load(rows, x, y);
        torch::NoGradGuard no_grad;
        net->forward(x, layers, &captured);
      }
      // Rows ascending for the collective write (test rows may be in numpy order).
      std::vector<std::size_t> order(rows.size());
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](auto a, auto c) { return rows[a] < rows[c]; });
      std::vector<hsize_t> sorted_rows;
      for (const auto i : order) sorted_rows.push_back(static_cast<hsize_t>(rows[i]));
      for (std::size_t k = 0; k < layers.size(); ++k) {
        at::Tensor values;
        if (!rows.empty()) {
          const auto index = at::tensor(std::vector<std::int64_t>(order.begin(), order.end()), at::kLong);
          values = reduce_activation(captured.at(layers[k]), config.reduce_of(layers[k])).index_select(0, index).contiguous();
        }
        file.write_row_list<float>(schema::layer(layers[k]), sorted_rows, rows.empty() ? nullptr : values.data_ptr<float>());
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
  }
  comm.barrier();
  if (root) {
    out.commit();
    write_manifest(output, key, {{"layers", layers}});
    spdlog::info("extract: wrote {} ({} layers)", output.string(), layers.size());
  } else {
    out.release();
  }
  comm.barrier();
}

void run(const ConfigDoc& doc, const StageOptions& options) {
  const auto run_config = parse_run_config(doc);
  const auto config = train::parse_extract_config(doc);
  const auto train_config = train::parse_train_config(doc);
  const WorkPaths paths{run_config.workdir};
  auto& comm = par::World::comm();
  if (!fs::exists(paths.features()) || !read_manifest(paths.features()))
    throw ModelError(paths.features().string() + ": features store missing or incomplete (run preprocess)");
  std::vector<ExtractRun> runs;
  for (const auto& spec : train::run_matrix(train_config)) {
    const auto dir = paths.run_dir(spec.name());
    if (!read_manifest(dir / "model.pt"))
      throw ModelError(dir.string() + ": no finished model (run the train stage first)");
    runs.push_back({spec.name(), spec.arch, train::task_name(spec.task), spec.seed, true, dir});
  }
  if (config.untrained) {
    for (const auto& a : train_config.architectures)
      for (const auto s : train_config.seeds) {
        const auto seed = static_cast<std::uint64_t>(s);
        runs.push_back({untrained_run_name(a, seed), a, "untrained", seed, false, {}});
      }
  }
  const auto features_fp = output_fingerprint(paths.features());
  train::MelDataset data(paths.features(), train::Task::family, comm);
  const int threads = resolve_threads(train_config.threads > 0 ? train_config.threads : run_config.threads);
  for (const auto& r : runs) extract_one(r, config, train_config, paths, data, features_fp, options.force, threads);
}

const Registrar extract_stage{Stage{"extract", 30, "activations of every layer of trained and untrained nets",
                                    validate, run}};

}  // namespace
}  // namespace cfma::jobs
