#pragma once
// Convolution of a one-channel input (the log-mel image) with stride 1 and no padding, as a
// direct loop nest. Every cfma CNN starts with such a conv (1 -> 5/10 channels, 5x5, 5x1 or
// 1x5, optionally dilated); oneDNN and im2col+GEMM both handle C_in = 1 poorly on CPU, and the
// weight gradient of this layer dominated the reference training step.
#include <cstdint>

#include <torch/types.h>

namespace cfma::nn {

// x: [B, 1, H, W]; weight: [C, 1, kh, kw]; bias: [C] or undefined.
// Returns [B, C, H - dh*(kh-1), W - dw*(kw-1)], equal to
// torch::conv2d(x, weight, bias, /*stride=*/1, /*padding=*/0, {dh, dw}).
// Differentiable in x, weight and bias (explicit backward).
torch::Tensor single_channel_conv2d(const torch::Tensor& x, const torch::Tensor& weight,
                                    const torch::Tensor& bias, std::int64_t dilation_h,
                                    std::int64_t dilation_w);

}  // namespace cfma::nn
