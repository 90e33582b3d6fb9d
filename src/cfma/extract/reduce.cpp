#include "cfma/extract/reduce.hpp"

#include <ATen/ATen.h>

namespace cfma::extract {

at::Tensor reduce_activation(const at::Tensor& a, const LayerReduce& r) {
  using Kind = LayerReduce::Kind;
  if (a.dim() == 4 && r.kind == Kind::channel_mean) return a.mean(1).flatten(1);
  if (a.dim() == 4 && r.kind == Kind::avg_pool) return at::avg_pool2d(a, {r.pool, r.pool}).flatten(1);
  return a.flatten(1);
}

}  // namespace cfma::extract
