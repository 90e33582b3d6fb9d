#include "cfma/nn/allocator.hpp"

#include <cstdlib>  // defines __GLIBC__ on glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace cfma::nn {

bool keep_large_allocations_mapped() {
#if defined(__GLIBC__)
  const bool no_mmap = mallopt(M_MMAP_MAX, 0) == 1;
  const bool no_trim = mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;  // keep up to 1 GiB free on top
  return no_mmap && no_trim;
#else
  return false;
#endif
}

}  // namespace cfma::nn
