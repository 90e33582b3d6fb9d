#pragma once
// Test-only fault switch for the fault-injection tests: $CFMA_TEST_FAULT="<stage>:<rank>:<n>[:kill]"
// makes the n-th call of test_fault_point("<stage>") on rank <rank> throw an Error (the
// default) or end the process with SIGKILL (":kill", a rank dying mid-stage). Each stage calls
// it once per unit of work, in code that runs on each rank separately, so the fault hits one
// rank while the others go on to the next collective. Unset (always, outside the tests), a call
// costs one comparison.
#include <string_view>

namespace cfma::par {

void test_fault_point(std::string_view stage);

}  // namespace cfma::par
