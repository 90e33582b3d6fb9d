#pragma once
// Deformable convolution as a native operator (Debian's LibTorch has no torchvision ops).
//
// The op is split in two: a bilinear *sampling* step with an explicit forward and backward
// (deform_sample), which writes the sampled taps as a tiled image
//   columns[b, c, i*kh + kr, j*kw + kc] = sample of channel c for output (i, j), tap (kr, kc),
// and an ordinary convolution of that image with kernel = stride = (kh, kw), which is exactly
// how the paper's code applied the kernel (and runs on oneDNN).
//
// Two sampling rules (reference-spec section 3.1 "Deformable", quirk Q6):
//  * DeformMode::paper — 4uiiurz1/pytorch-deform-conv-v2 (DCNv1) as the paper ran it.
//    offset: [B, 2*kh*kw, Ho, Wo], channels 0..K-1 row offsets, K..2K-1 column offsets, tap
//    n = kw*kr + kc. The input is zero-padded by `padding`; base grid p0 = (1 + sh*i,
//    1 + sw*j); tap p_n = (kr - (kh-1)/2, kc - (kw-1)/2) (no dilation); p = p0 + p_n + offset.
//    Neighbours q_lt = floor(p) (of the unclamped p), q_rb = q_lt + 1, both clamped into the
//    padded map, p clamped likewise; weights 1 + (q_lt - p) and 1 - (q_rb - p) per axis. A
//    coordinate outside [0, H-1] therefore counts the border pixel twice. Output size = the
//    offset map's size (Ho, Wo). No mask.
//  * DeformMode::dcnv2 — torchvision.ops.deform_conv2d: p = (i*sh - ph + kr*dh + off_y,
//    j*sw - pw + kc*dw + off_x), offset channels interleaved (2n = y, 2n+1 = x), bilinear with
//    zero outside the input, optional modulation mask [B, K, Ho, Wo] multiplying each sample.
//    Output size = the standard conv output size (Ho, Wo must match the offset map).
// Both are parallel over the batch (at::parallel_for) and support float and double.
#include <cstdint>
#include <string>

#include <torch/types.h>

namespace cfma::nn {

enum class DeformMode { paper, dcnv2 };

// Parses "paper" / "dcnv2"; throws ModelError naming the value otherwise.
DeformMode parse_deform_mode(const std::string& name);
std::string to_string(DeformMode mode);

struct DeformGeometry {
  std::int64_t kernel_h = 3, kernel_w = 3;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
  std::int64_t dil_h = 1, dil_w = 1;  // dcnv2 only (paper mode requires 1)
};

// Sampled taps as a tiled image [B, C, Ho*kh, Wo*kw] (see above). Differentiable in input,
// offset and mask (pass an undefined tensor for no mask; paper mode takes none).
torch::Tensor deform_sample(const torch::Tensor& input, const torch::Tensor& offset,
                            const torch::Tensor& mask, const DeformGeometry& geometry,
                            DeformMode mode);

// deform_sample followed by conv2d(columns, weight, bias, stride = kernel).
// weight: [O, C, kh, kw]; bias: [O] or undefined. Returns [B, O, Ho, Wo].
torch::Tensor deform_conv2d(const torch::Tensor& input, const torch::Tensor& offset,
                            const torch::Tensor& weight, const torch::Tensor& bias,
                            const torch::Tensor& mask, const DeformGeometry& geometry,
                            DeformMode mode);

}  // namespace cfma::nn
