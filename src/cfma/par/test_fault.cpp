#include "cfma/par/test_fault.hpp"

#include <csignal>
#include <cstdlib>
#include <string>

#include <unistd.h>

#include "cfma/core/error.hpp"
#include "cfma/par/world.hpp"

namespace cfma::par {

namespace {
struct FaultSpec {
  std::string stage;
  int rank = -1;
  int call = 1;
  bool kill = false;
};

FaultSpec parse_fault_spec() {
  FaultSpec spec;
  const char* text = std::getenv("CFMA_TEST_FAULT");
  if (!text || !*text) return spec;
  std::string rest = text;
  auto next = [&rest]() {
    const auto colon = rest.find(':');
    std::string field = rest.substr(0, colon);
    rest = colon == std::string::npos ? "" : rest.substr(colon + 1);
    return field;
  };
  spec.stage = next();
  const auto rank = next(), call = next(), mode = next();
  if (spec.stage.empty() || rank.empty() || (!mode.empty() && mode != "kill"))
    throw Error("CFMA_TEST_FAULT='" + std::string(text) + "': expected <stage>:<rank>:<n>[:kill]");
  spec.rank = std::atoi(rank.c_str());
  spec.call = call.empty() ? 1 : std::atoi(call.c_str());
  spec.kill = mode == "kill";
  return spec;
}
}  // namespace

void test_fault_point(std::string_view stage) {
  static const FaultSpec spec = parse_fault_spec();
  static int calls = 0;
  if (spec.stage.empty() || spec.stage != stage || World::rank() != spec.rank) return;
  if (++calls != spec.call) return;
  if (spec.kill) ::kill(::getpid(), SIGKILL);
  throw Error("test fault in " + std::string(stage) + " (CFMA_TEST_FAULT, call " + std::to_string(calls) + ")");
}

}  // namespace cfma::par
