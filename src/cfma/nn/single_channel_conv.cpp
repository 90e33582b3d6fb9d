#include "cfma/nn/single_channel_conv.hpp"

#include <string>
#include <vector>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "cfma/core/error.hpp"
#include "cfma/nn/simd_kernels.hpp"

namespace cfma::nn {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

struct ConvGeometry {
  std::int64_t batch, channels, height, width, kernel_h, kernel_w, dil_h, dil_w, out_h, out_w;
  std::int64_t taps() const { return kernel_h * kernel_w; }
  // Offset of tap t in the input relative to the output position.
  std::int64_t tap_offset(std::int64_t t) const {
    return (t / kernel_w) * dil_h * width + (t % kernel_w) * dil_w;
  }
};

ConvGeometry geometry_of(const Tensor& x, const Tensor& weight, std::int64_t dh, std::int64_t dw) {
  ConvGeometry g{x.size(0), weight.size(0), x.size(2), x.size(3), weight.size(2), weight.size(3),
                 dh, dw, 0, 0};
  g.out_h = g.height - dh * (g.kernel_h - 1);
  g.out_w = g.width - dw * (g.kernel_w - 1);
  return g;
}

template <typename scalar_t>
void conv_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvGeometry& g,
                  Tensor& out) {
  const scalar_t* xp = x.data_ptr<scalar_t>();
  const scalar_t* wp = weight.data_ptr<scalar_t>();
  const scalar_t* bp = bias.defined() ? bias.data_ptr<scalar_t>() : nullptr;
  scalar_t* op = out.data_ptr<scalar_t>();
  const std::int64_t K = g.taps();
  std::vector<std::int64_t> offsets(K);
  for (std::int64_t t = 0; t < K; ++t) offsets[t] = g.tap_offset(t);
  at::parallel_for(0, g.batch * g.channels, 1, [&](std::int64_t p0, std::int64_t p1) {
    for (std::int64_t plane = p0; plane < p1; ++plane) {
      const std::int64_t b = plane / g.channels, c = plane % g.channels;
      const scalar_t* xin = xp + b * g.height * g.width;
      const scalar_t* w = wp + c * K;
      scalar_t* o = op + plane * g.out_h * g.out_w;
      const scalar_t b0 = bp ? bp[c] : scalar_t(0);
      for (std::int64_t i = 0; i < g.out_h; ++i) {
        scalar_t* orow = o + i * g.out_w;
        const scalar_t* xrow = xin + i * g.width;
        simd::conv_row(orow, xrow, w, offsets.data(), K, g.out_w, b0);
      }
    }
  });
}

struct SingleChannelConvFn : public torch::autograd::Function<SingleChannelConvFn> {
  static Tensor forward(AutogradContext* ctx, Tensor x, Tensor weight,
                        c10::optional<Tensor> bias_or_none,
                        std::int64_t dil_h, std::int64_t dil_w) {
    const Tensor xc = x.contiguous();
    const Tensor wc = weight.contiguous();
    const Tensor bias = bias_or_none ? bias_or_none->contiguous() : Tensor();
    const ConvGeometry g = geometry_of(xc, wc, dil_h, dil_w);
    Tensor out = torch::empty({g.batch, g.channels, g.out_h, g.out_w}, xc.options());
    AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "cfma_single_channel_conv", [&] {
      conv_forward<scalar_t>(xc, wc, bias, g, out);
    });
    ctx->save_for_backward({xc, wc});
    ctx->saved_data["dil_h"] = dil_h;
    ctx->saved_data["dil_w"] = dil_w;
    ctx->saved_data["has_bias"] = bias.defined();
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const Tensor& x = saved[0];
    const Tensor& weight = saved[1];
    const Tensor grad = grad_outputs[0].contiguous();
    const ConvGeometry g = geometry_of(x, weight, ctx->saved_data["dil_h"].toInt(),
                                       ctx->saved_data["dil_w"].toInt());
    const std::int64_t K = g.taps(), C = g.channels;
    std::vector<std::int64_t> offsets(K);
    for (std::int64_t t = 0; t < K; ++t) offsets[t] = g.tap_offset(t);
    const bool need_x = ctx->needs_input_grad(0);

    // Per-sample partial sums (float64) so samples can run in parallel; summed afterwards.
    Tensor partial = torch::zeros({g.batch, C, K + 1}, torch::kFloat64);
    Tensor grad_x = need_x ? torch::zeros(x.sizes(), x.options()) : Tensor();
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "cfma_single_channel_conv_backward", [&] {
      const scalar_t* xp = x.data_ptr<scalar_t>();
      const scalar_t* wp = weight.data_ptr<scalar_t>();
      const scalar_t* gp = grad.data_ptr<scalar_t>();
      double* pp = partial.data_ptr<double>();
      scalar_t* gxp = need_x ? grad_x.data_ptr<scalar_t>() : nullptr;
      at::parallel_for(0, g.batch, 1, [&](std::int64_t b0, std::int64_t b1) {
        std::vector<double> acc(static_cast<std::size_t>(K));
        for (std::int64_t b = b0; b < b1; ++b) {
          const scalar_t* xin = xp + b * g.height * g.width;
          for (std::int64_t c = 0; c < C; ++c) {
            const scalar_t* gplane = gp + (b * C + c) * g.out_h * g.out_w;
            std::fill(acc.begin(), acc.end(), 0.0);
            double bias_sum = 0, unused_sumsq = 0;
            for (std::int64_t i = 0; i < g.out_h; ++i) {
              const scalar_t* grow = gplane + i * g.out_w;
              const scalar_t* xrow = xin + i * g.width;
              simd::sum_and_squares(grow, g.out_w, &bias_sum, &unused_sumsq);
              // Row dot products (vectorised), float64 across rows.
              simd::multi_dot(grow, xrow, offsets.data(), K, g.out_w, acc.data());
              if (gxp) {
                scalar_t* gxrow = gxp + b * g.height * g.width + i * g.width;
                for (std::int64_t t = 0; t < K; ++t) {
                  const scalar_t wt = wp[c * K + t];
                  scalar_t* dst = gxrow + offsets[t];
                  for (std::int64_t j = 0; j < g.out_w; ++j) dst[j] += wt * grow[j];
                }
              }
            }
            double* out = pp + (b * C + c) * (K + 1);
            for (std::int64_t t = 0; t < K; ++t) out[t] = acc[t];
            out[K] = bias_sum;
          }
        }
      });
    });
    const Tensor totals = partial.sum(0).to(x.scalar_type());  // [C, K+1]
    Tensor grad_weight = totals.slice(1, 0, K).reshape(weight.sizes()).contiguous();
    Tensor grad_bias =
        ctx->saved_data["has_bias"].toBool() ? totals.select(1, K).contiguous() : Tensor();
    return {grad_x, grad_weight, grad_bias, Tensor(), Tensor()};
  }
};

}  // namespace

torch::Tensor single_channel_conv2d(const torch::Tensor& x, const torch::Tensor& weight,
                                    const torch::Tensor& bias, std::int64_t dilation_h,
                                    std::int64_t dilation_w) {
  if (x.dim() != 4 || x.size(1) != 1 || weight.dim() != 4 || weight.size(1) != 1)
    throw ModelError("single_channel_conv2d: expected x [B,1,H,W] and weight [C,1,kh,kw], got " +
                     std::to_string(x.dim()) + "-D input with " +
                     std::to_string(x.dim() > 1 ? x.size(1) : 0) + " channels");
  if (x.size(2) - dilation_h * (weight.size(2) - 1) < 1 ||
      x.size(3) - dilation_w * (weight.size(3) - 1) < 1)
    throw ModelError("single_channel_conv2d: kernel larger than the input");
  return SingleChannelConvFn::apply(
      x, weight, bias.defined() ? c10::optional<torch::Tensor>(bias) : c10::nullopt, dilation_h,
      dilation_w);
}

}  // namespace cfma::nn
