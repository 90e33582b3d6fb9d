#include "cfma/train/train_config.hpp"

#include "cfma/core/error.hpp"
#include "cfma/core/paths.hpp"
#include "cfma/core/text.hpp"
#include "cfma/nn/architectures.hpp"

#include <algorithm>

namespace cfma::train {

Task parse_task(const std::string& name) {
  if (name == "family") return Task::family;
  if (name == "pitch") return Task::pitch;
  if (name == "velocity") return Task::velocity;
  throw TrainError("unknown task '" + name + "' (valid: family, pitch, velocity)");
}

std::string task_name(Task t) {
  switch (t) {
    case Task::family: return "family";
    case Task::pitch: return "pitch";
    case Task::velocity: return "velocity";
  }
  return "?";
}

TrainConfig parse_train_config(const ConfigDoc& doc) {
  const auto s = doc.section("train");
  TrainConfig c;
  c.architectures = s.get_string_list("architectures", c.architectures);
  const auto known = nn::architecture_names();
  for (std::size_t i = 0; i < c.architectures.size(); ++i)
    if (std::find(known.begin(), known.end(), c.architectures[i]) == known.end())
      s.fail_element("architectures", i, "unknown architecture '" + c.architectures[i] + "' (valid: " + join(known) + ")");
  c.tasks = s.get_string_list("tasks", c.tasks);
  for (std::size_t i = 0; i < c.tasks.size(); ++i) {
    try {
      parse_task(c.tasks[i]);
    } catch (const TrainError& e) {
      s.fail_element("tasks", i, e.what());
    }
  }
  c.seeds = s.get_int_list("seeds", c.seeds, at_least(0));
  if (c.architectures.empty()) s.fail("architectures", "empty list");
  if (c.tasks.empty()) s.fail("tasks", "empty list");
  if (c.seeds.empty()) s.fail("seeds", "empty list");
  // A repeated entry would name one run directory twice (two array tasks writing one run).
  s.check_unique("architectures", c.architectures);
  s.check_unique("tasks", c.tasks);
  s.check_unique("seeds", c.seeds);
  c.epochs = static_cast<int>(s.get_int("epochs", c.epochs, between(1, 100000)));
  c.batch_size = static_cast<int>(s.get_int("batch_size", c.batch_size, between(1, 1 << 20)));
  c.micro_batch = static_cast<int>(s.get_int("micro_batch", c.micro_batch, between(0, 1 << 20)));
  c.learning_rate = s.get_double("learning_rate", c.learning_rate, greater_than(0));
  c.momentum = s.get_double("momentum", c.momentum, between(0, 1));
  c.shuffle = s.get_bool("shuffle", c.shuffle);
  c.double_softmax = s.get_bool("double_softmax", c.double_softmax);
  c.deformable_mode = s.get_choice("deformable_mode", c.deformable_mode, {"paper", "dcnv2"});
  c.checkpoint_every = static_cast<int>(s.get_int("checkpoint_every", c.checkpoint_every, between(1, 100000)));
  c.threads = static_cast<int>(s.get_int("threads", c.threads, between(0, 1024)));
  c.verify_replicas = s.get_bool("verify_replicas", c.verify_replicas);
  return c;
}

nlohmann::json to_json(const TrainConfig& c) {
  return {{"architectures", c.architectures}, {"tasks", c.tasks}, {"seeds", c.seeds},
          {"epochs", c.epochs}, {"batch_size", c.batch_size}, {"micro_batch", c.micro_batch}, {"learning_rate", c.learning_rate},
          {"momentum", c.momentum}, {"shuffle", c.shuffle}, {"double_softmax", c.double_softmax},
          {"deformable_mode", c.deformable_mode}, {"checkpoint_every", c.checkpoint_every}};
}

std::string RunSpec::name() const { return run_name(arch, task_name(task), seed); }

std::vector<RunSpec> run_matrix(const TrainConfig& c) {
  std::vector<RunSpec> runs;
  for (const auto& a : c.architectures)
    for (const auto& t : c.tasks)
      for (const auto s : c.seeds) runs.push_back({a, parse_task(t), static_cast<std::uint64_t>(s)});
  return runs;
}

}  // namespace cfma::train
