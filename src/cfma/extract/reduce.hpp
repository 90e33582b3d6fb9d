#pragma once
// The reduction of one captured layer before it is stored (extract.reduce).
#include <ATen/Tensor.h>

#include "cfma/extract/extract_config.hpp"

namespace cfma::extract {

// [B, C, H, W] (or [B, D]) -> [B, D'] as configured: channel_mean averages over C (the paper's
// conv1/pool1, Q7), avgpool<K> pools K x K, none flattens (C, H, W order).
at::Tensor reduce_activation(const at::Tensor& activation, const LayerReduce& reduce);

}  // namespace cfma::extract
