#include "cfma/slurm/slurm_config.hpp"

namespace cfma::slurm {
namespace {

JobResources parse_resources(const ConfigSection& s, JobResources r) {
  r.partition = s.get_string("partition", r.partition);
  r.account = s.get_string("account", r.account);
  r.time = s.get_string("time", r.time);
  r.mem = s.get_string("mem", r.mem);
  r.nodes = static_cast<int>(s.get_int("nodes", r.nodes, between(1, 100000)));
  r.ntasks = static_cast<int>(s.get_int("ntasks", r.ntasks, between(1, 10000000)));
  r.cpus_per_task = static_cast<int>(s.get_int("cpus_per_task", r.cpus_per_task, between(1, 4096)));
  r.extra = s.get_string_list("extra", r.extra);
  for (std::size_t i = 0; i < r.extra.size(); ++i)
    if (r.extra[i].rfind("-", 0) != 0) s.fail_element("extra", i, "'" + r.extra[i] + "' is not an sbatch option (--name=value)");
  if (r.ntasks < r.nodes) s.fail("ntasks", "fewer tasks than nodes");
  return r;
}

}  // namespace

SlurmConfig parse_slurm_config(const ConfigDoc& doc) {
  const auto s = doc.section("slurm");
  SlurmConfig c;
  const auto common = parse_resources(s, JobResources{});
  c.array_throttle = static_cast<int>(s.get_int("array_throttle", c.array_throttle, between(0, 100000)));
  c.log_dir = s.get_string("log_dir", c.log_dir);
  // doc.section (not subsection) so that an unknown key inside [slurm.train] is still reported.
  c.preprocess = parse_resources(doc.section("slurm.preprocess"), common);
  c.train = parse_resources(doc.section("slurm.train"), common);
  c.analysis = parse_resources(doc.section("slurm.analysis"), common);
  return c;
}

std::vector<std::string> sbatch_options(const JobResources& r) {
  std::vector<std::string> o;
  if (!r.partition.empty()) o.push_back("--partition=" + r.partition);
  if (!r.account.empty()) o.push_back("--account=" + r.account);
  if (!r.time.empty()) o.push_back("--time=" + r.time);
  if (!r.mem.empty()) o.push_back("--mem=" + r.mem);
  o.push_back("--nodes=" + std::to_string(r.nodes));
  o.push_back("--ntasks=" + std::to_string(r.ntasks));
  o.push_back("--cpus-per-task=" + std::to_string(r.cpus_per_task));
  o.insert(o.end(), r.extra.begin(), r.extra.end());
  return o;
}

}  // namespace cfma::slurm
