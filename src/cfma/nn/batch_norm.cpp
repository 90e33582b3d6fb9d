#include "cfma/nn/batch_norm.hpp"

#include <cmath>
#include <limits>
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

// Carries the (non-tensor) all-reduce callback from forward to backward inside the autograd
// context.
struct AllReduceHolder : torch::CustomClassHolder {
  StatsAllReduce fn;
  bool micro = false;
  MicroBatches micro_batches;
};

// First row of each micro-batch, and the end: [k + 1].
std::vector<std::int64_t> micro_bounds(const MicroBatches& m, std::int64_t batch) {
  std::vector<std::int64_t> bounds{0};
  for (const auto r : m.rows) bounds.push_back(bounds.back() + r);
  if (bounds.back() != batch)
    throw ModelError("BatchNorm: micro-batches of " + std::to_string(bounds.back()) + " rows for a batch of " +
                     std::to_string(batch));
  return bounds;
}

// Layout used by the kernels: x viewed as [B, C, H, W] contiguous (a 2-D input is [B, C, 1, 1]).
struct Geometry {
  std::int64_t batch, channels, height, width, pooled_h, pooled_w, pool_h, pool_w;
  std::int64_t plane() const { return height * width; }
  std::int64_t pooled_plane() const { return pooled_h * pooled_w; }
};

Geometry geometry_of(const Tensor& x4, PoolSize pool) {
  Geometry g{x4.size(0), x4.size(1), x4.size(2), x4.size(3), 0, 0, pool.h, pool.w};
  g.pooled_h = g.height / pool.h;
  g.pooled_w = g.width / pool.w;
  return g;
}

// Per-channel sum and sum of squares (float64) of each row range [bounds[j], bounds[j+1]) of
// x: [k, 2C+1] with the element count last (one range, the whole batch: [1, 2C+1]).
template <typename scalar_t>
Tensor local_sums(const Tensor& x, const Geometry& g, const std::vector<std::int64_t>& bounds) {
  const auto ranges = static_cast<std::int64_t>(bounds.size()) - 1;
  const std::int64_t width = 2 * g.channels + 1;
  Tensor sums = torch::zeros({ranges, width}, torch::kFloat64);
  double* s = sums.data_ptr<double>();
  const scalar_t* xp = x.data_ptr<scalar_t>();
  at::parallel_for(0, g.channels, 1, [&](std::int64_t c0, std::int64_t c1) {
    for (std::int64_t c = c0; c < c1; ++c)
      for (std::int64_t j = 0; j < ranges; ++j) {
        double sum = 0, sumsq = 0;
        for (std::int64_t b = bounds[j]; b < bounds[j + 1]; ++b) {
          const scalar_t* p = xp + (b * g.channels + c) * g.plane();
          // Vectorised accumulation per plane, float64 across planes.
          simd::sum_and_squares(p, g.plane(), &sum, &sumsq);
        }
        s[j * width + c] = sum;
        s[j * width + g.channels + c] = sumsq;
      }
  });
  for (std::int64_t j = 0; j < ranges; ++j) s[j * width + 2 * g.channels] = static_cast<double>((bounds[j + 1] - bounds[j]) * g.plane());
  return sums;
}

// Offsets of the pool window's elements in the input plane, in scan order (window index k ->
// k/pool_w rows and k%pool_w columns down/right), so the hot loops need no division.
std::vector<std::int64_t> window_offsets(const Geometry& g) {
  std::vector<std::int64_t> offsets;
  for (std::int64_t u = 0; u < g.pool_h; ++u)
    for (std::int64_t v = 0; v < g.pool_w; ++v) offsets.push_back(u * g.width + v);
  return offsets;
}

// out = pool(relu(x * scale + shift)); argmax (window index, uint8) when pooling.
template <typename scalar_t>
void normalise_relu_pool(const Tensor& x, const Tensor& scale, const Tensor& shift, bool relu,
                         const Geometry& g, Tensor& out, Tensor& argmax) {
  const scalar_t* xp = x.data_ptr<scalar_t>();
  const double* sc = scale.data_ptr<double>();
  const double* sh = shift.data_ptr<double>();
  scalar_t* op = out.data_ptr<scalar_t>();
  const bool pooling = g.pool_h != 1 || g.pool_w != 1;
  std::uint8_t* ap = pooling ? argmax.data_ptr<std::uint8_t>() : nullptr;
  at::parallel_for(0, g.batch * g.channels, 1, [&](std::int64_t p0, std::int64_t p1) {
    for (std::int64_t plane = p0; plane < p1; ++plane) {
      const std::int64_t c = plane % g.channels;
      const auto a = static_cast<scalar_t>(sc[c]);
      const auto b = static_cast<scalar_t>(sh[c]);
      const scalar_t* in = xp + plane * g.plane();
      scalar_t* o = op + plane * g.pooled_plane();
      if (!pooling) {
        for (std::int64_t e = 0; e < g.plane(); ++e) {
          scalar_t z = in[e] * a + b;
          o[e] = relu ? (z > 0 ? z : scalar_t(0)) : z;
        }
        continue;
      }
      std::uint8_t* am = ap + plane * g.pooled_plane();
      const std::vector<std::int64_t> window = window_offsets(g);
      const auto window_size = static_cast<std::uint8_t>(window.size());
      for (std::int64_t i = 0; i < g.pooled_h; ++i) {
        for (std::int64_t j = 0; j < g.pooled_w; ++j) {
          const scalar_t* corner = in + i * g.pool_h * g.width + j * g.pool_w;
          scalar_t best = -std::numeric_limits<scalar_t>::infinity();
          std::uint8_t arg = 0;
          for (std::uint8_t k = 0; k < window_size; ++k) {
            const scalar_t z = corner[window[k]] * a + b;
            // First maximum in scan order wins, as in MaxPool2d (ties below zero do not
            // matter: ReLU zeroes their gradient).
            if (z > best) {
              best = z;
              arg = k;
            }
          }
          o[i * g.pooled_w + j] = relu ? (best > 0 ? best : scalar_t(0)) : best;
          am[i * g.pooled_w + j] = arg;
        }
      }
    }
  });
}

// Visits every output gradient that reaches z (after ReLU mask and pool routing) with the
// input element index it lands on: fn(plane, element index in plane, dL/dz).
template <typename scalar_t, typename Fn>
void for_each_routed_gradient(const Geometry& g, const std::vector<std::int64_t>& window,
                              std::int64_t plane, const scalar_t* grad_out, const scalar_t* out,
                              const std::uint8_t* argmax, bool relu, Fn&& fn) {
  const bool pooling = g.pool_h != 1 || g.pool_w != 1;
  const scalar_t* go = grad_out + plane * g.pooled_plane();
  const scalar_t* o = out + plane * g.pooled_plane();
  if (!pooling) {
    for (std::int64_t e = 0; e < g.plane(); ++e)
      if (!relu || o[e] > 0) fn(e, go[e]);
    return;
  }
  const std::uint8_t* am = argmax + plane * g.pooled_plane();
  for (std::int64_t i = 0; i < g.pooled_h; ++i)
    for (std::int64_t j = 0; j < g.pooled_w; ++j) {
      const std::int64_t k = i * g.pooled_w + j;
      if (relu && !(o[k] > 0)) continue;
      fn(i * g.pool_h * g.width + j * g.pool_w + window[am[k]], go[k]);
    }
}

struct BatchNormFn : public torch::autograd::Function<BatchNormFn> {
  static Tensor forward(AutogradContext* ctx, Tensor x, Tensor weight, Tensor bias,
                        Tensor running_mean, Tensor running_var, bool training, double momentum,
                        double eps, bool relu, std::int64_t pool_h, std::int64_t pool_w,
                        c10::IValue all_reduce) {
    const Tensor x4 = (x.dim() == 2 ? x.view({x.size(0), x.size(1), 1, 1}) : x).contiguous();
    const Geometry g = geometry_of(x4, {pool_h, pool_w});
    Tensor mean, invstd;
    double count = static_cast<double>(g.batch * g.plane());
    if (training) {
      Tensor sums;
      c10::intrusive_ptr<AllReduceHolder> holder;
      if (!all_reduce.isNone()) holder = c10::static_intrusive_pointer_cast<AllReduceHolder>(all_reduce.toCapsule());
      const bool micro = holder && holder->micro;
      const auto bounds = micro ? micro_bounds(holder->micro_batches, g.batch) : std::vector<std::int64_t>{0, g.batch};
      AT_DISPATCH_FLOATING_TYPES(x4.scalar_type(), "cfma_bn_sums",
                                 [&] { sums = local_sums<scalar_t>(x4, g, bounds); });
      if (micro) sums = holder->micro_batches.reduce(sums);
      else {
        sums = sums.reshape({-1});
        if (holder) holder->fn(sums);
      }
      count = sums[2 * g.channels].item<double>();
      if (count < 2)
        throw ModelError("BatchNorm in training mode needs more than one value per channel, got " +
                         std::to_string(static_cast<long long>(count)));
      mean = sums.slice(0, 0, g.channels) / count;
      Tensor var = (sums.slice(0, g.channels, 2 * g.channels) / count - mean * mean).clamp_min(0);
      invstd = (var + eps).rsqrt();
      running_mean.mul_(1 - momentum).add_(mean.to(running_mean.scalar_type()), momentum);
      running_var.mul_(1 - momentum)
          .add_((var * (count / (count - 1))).to(running_var.scalar_type()), momentum);
    } else {
      mean = running_mean.to(torch::kFloat64);
      invstd = (running_var.to(torch::kFloat64) + eps).rsqrt();
    }
    const Tensor scale = weight.to(torch::kFloat64) * invstd;
    const Tensor shift = bias.to(torch::kFloat64) - mean * scale;

    Tensor out = torch::empty({g.batch, g.channels, g.pooled_h, g.pooled_w}, x4.options());
    Tensor argmax;
    if (pool_h != 1 || pool_w != 1) argmax = torch::empty(out.sizes(), torch::kUInt8);
    AT_DISPATCH_FLOATING_TYPES(x4.scalar_type(), "cfma_bn_forward", [&] {
      normalise_relu_pool<scalar_t>(x4, scale, shift, relu, g, out, argmax);
    });
    if (x.dim() == 2) out = out.view({g.batch, g.channels});

    // x4 is the input (or a view of it): kept in saved_data; the output must go through
    // save_for_backward (saved_data holding it would form a reference cycle with this node).
    ctx->save_for_backward({weight, out});
    ctx->saved_data["input"] = x4;
    ctx->saved_data["mean"] = mean;
    ctx->saved_data["invstd"] = invstd;
    ctx->saved_data["argmax"] = argmax;
    ctx->saved_data["count"] = count;
    ctx->saved_data["training"] = training;
    ctx->saved_data["relu"] = relu;
    ctx->saved_data["pool_h"] = pool_h;
    ctx->saved_data["pool_w"] = pool_w;
    ctx->saved_data["all_reduce"] = all_reduce;
    ctx->saved_data["input_dim"] = x.dim();
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const Tensor x4 = ctx->saved_data["input"].toTensor();
    const Tensor& weight = saved[0];
    const Tensor out = saved[1].contiguous();
    const Tensor grad_out = grad_outputs[0].contiguous();
    const Tensor mean = ctx->saved_data["mean"].toTensor();
    const Tensor invstd = ctx->saved_data["invstd"].toTensor();
    const Tensor argmax = ctx->saved_data["argmax"].toTensor();
    const double count = ctx->saved_data["count"].toDouble();
    const bool training = ctx->saved_data["training"].toBool();
    const bool relu = ctx->saved_data["relu"].toBool();
    const Geometry g = geometry_of(x4, {ctx->saved_data["pool_h"].toInt(),
                                        ctx->saved_data["pool_w"].toInt()});
    const c10::IValue all_reduce = ctx->saved_data["all_reduce"];
    const std::int64_t C = g.channels;

    // Local per-channel [sum dL/dz | sum dL/dz * xhat | 0], per micro-batch in micro mode.
    c10::intrusive_ptr<AllReduceHolder> holder;
    if (training && !all_reduce.isNone()) holder = c10::static_intrusive_pointer_cast<AllReduceHolder>(all_reduce.toCapsule());
    const bool micro = holder && holder->micro;
    const auto bounds = micro ? micro_bounds(holder->micro_batches, g.batch) : std::vector<std::int64_t>{0, g.batch};
    const auto ranges = static_cast<std::int64_t>(bounds.size()) - 1;
    Tensor grad_sums = torch::zeros({ranges, 2 * C + 1}, torch::kFloat64);
    Tensor grad_x = torch::empty(x4.sizes(), x4.options());
    const std::vector<std::int64_t> window = window_offsets(g);
    AT_DISPATCH_FLOATING_TYPES(x4.scalar_type(), "cfma_bn_backward", [&] {
      const scalar_t* xp = x4.data_ptr<scalar_t>();
      const scalar_t* gop = grad_out.data_ptr<scalar_t>();
      const scalar_t* op = out.data_ptr<scalar_t>();
      const std::uint8_t* ap = argmax.defined() ? argmax.data_ptr<std::uint8_t>() : nullptr;
      const double* mp = mean.data_ptr<double>();
      const double* ip = invstd.data_ptr<double>();
      double* gs = grad_sums.data_ptr<double>();
      at::parallel_for(0, C, 1, [&](std::int64_t c0, std::int64_t c1) {
        for (std::int64_t c = c0; c < c1; ++c)
          for (std::int64_t j = 0; j < ranges; ++j) {
            double sum_gz = 0, sum_gz_xhat = 0;
            for (std::int64_t b = bounds[j]; b < bounds[j + 1]; ++b) {
              const std::int64_t plane = b * C + c;
              const scalar_t* in = xp + plane * g.plane();
              for_each_routed_gradient<scalar_t>(g, window, plane, gop, op, ap, relu,
                                                 [&](std::int64_t e, scalar_t gz) {
                                                   sum_gz += gz;
                                                   sum_gz_xhat += gz * (in[e] - mp[c]) * ip[c];
                                                 });
            }
            gs[j * (2 * C + 1) + c] = sum_gz;
            gs[j * (2 * C + 1) + C + c] = sum_gz_xhat;
          }
      });
    });
    // dL/dgamma and dL/dbeta: this rank's own contributions (the trainer sums them), or in
    // micro mode the global batch's, summed micro-batch by micro-batch in global order.
    Tensor grad_bias, grad_weight;
    if (micro) {
      grad_sums = holder->micro_batches.reduce(grad_sums);
      grad_bias = grad_sums.slice(0, 0, C).clone();
      grad_weight = grad_sums.slice(0, C, 2 * C).clone();
    } else {
      grad_sums = grad_sums.reshape({-1});
      grad_bias = grad_sums.slice(0, 0, C).clone();
      grad_weight = grad_sums.slice(0, C, 2 * C).clone();
      if (holder) holder->fn(grad_sums);
    }
    const Tensor k = weight.to(torch::kFloat64) * invstd;  // gamma / sigma
    // grad_x = k * (gz - mean(gz) - xhat * mean(gz xhat)) in training, k * gz in eval.
    const Tensor mean_gz = training ? grad_sums.slice(0, 0, C) / count : torch::zeros({C}, torch::kFloat64);
    const Tensor mean_gzx = training ? grad_sums.slice(0, C, 2 * C) / count : torch::zeros({C}, torch::kFloat64);
    AT_DISPATCH_FLOATING_TYPES(x4.scalar_type(), "cfma_bn_backward_x", [&] {
      const scalar_t* xp = x4.data_ptr<scalar_t>();
      const scalar_t* gop = grad_out.data_ptr<scalar_t>();
      const scalar_t* op = out.data_ptr<scalar_t>();
      const std::uint8_t* ap = argmax.defined() ? argmax.data_ptr<std::uint8_t>() : nullptr;
      const double* mp = mean.data_ptr<double>();
      const double* ip = invstd.data_ptr<double>();
      const double* kp = k.data_ptr<double>();
      const double* mg = mean_gz.data_ptr<double>();
      const double* mgx = mean_gzx.data_ptr<double>();
      scalar_t* gx = grad_x.data_ptr<scalar_t>();
      at::parallel_for(0, g.batch * C, 1, [&](std::int64_t p0, std::int64_t p1) {
        for (std::int64_t plane = p0; plane < p1; ++plane) {
          const std::int64_t c = plane % C;
          // grad_x = k*gz + (alpha + beta * x) with alpha, beta per channel.
          const auto beta = static_cast<scalar_t>(-kp[c] * ip[c] * mgx[c]);
          const auto alpha = static_cast<scalar_t>(-kp[c] * (mg[c] - mp[c] * ip[c] * mgx[c]));
          const scalar_t* in = xp + plane * g.plane();
          scalar_t* o = gx + plane * g.plane();
          simd::affine(o, in, g.plane(), alpha, beta);
          const auto kc = static_cast<scalar_t>(kp[c]);
          for_each_routed_gradient<scalar_t>(g, window, plane, gop, op, ap, relu,
                                             [&](std::int64_t e, scalar_t gz) { o[e] += kc * gz; });
        }
      });
    });
    if (ctx->saved_data["input_dim"].toInt() == 2) grad_x = grad_x.view({g.batch, C});
    return {grad_x,
            grad_weight.to(weight.scalar_type()),
            grad_bias.to(weight.scalar_type()),
            Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor(),
            Tensor()};
  }
};

}  // namespace

torch::Tensor batch_norm_relu_pool(const torch::Tensor& x, const torch::Tensor& weight,
                                   const torch::Tensor& bias, const torch::Tensor& running_mean,
                                   const torch::Tensor& running_var,
                                   const BatchNormOptions& options) {
  if (x.dim() != 4 && x.dim() != 2)
    throw ModelError("batch_norm_relu_pool: expected a [B,C,H,W] or [B,C] input, got " +
                     std::to_string(x.dim()) + " dimensions");
  if (x.dim() == 2 && !options.pool.none())
    throw ModelError("batch_norm_relu_pool: pooling needs a [B,C,H,W] input");
  if (x.size(1) != weight.size(0))
    throw ModelError("batch_norm_relu_pool: input has " + std::to_string(x.size(1)) +
                     " channels, BatchNorm has " + std::to_string(weight.size(0)));
  if (options.pool.h * options.pool.w > 256)
    throw ModelError("batch_norm_relu_pool: pool window larger than 256 elements");
  c10::IValue all_reduce;
  if (options.training && options.micro) {
    auto holder = c10::make_intrusive<AllReduceHolder>();
    holder->micro = true;
    holder->micro_batches = *options.micro;
    all_reduce = c10::IValue::make_capsule(std::move(holder));
  } else if (options.all_reduce && *options.all_reduce) {
    auto holder = c10::make_intrusive<AllReduceHolder>();
    holder->fn = *options.all_reduce;
    all_reduce = c10::IValue::make_capsule(std::move(holder));
  }
  return BatchNormFn::apply(x, weight, bias, running_mean, running_var, options.training,
                            options.momentum, options.eps, options.relu, options.pool.h,
                            options.pool.w, all_reduce);
}

SyncBatchNormImpl::SyncBatchNormImpl(std::int64_t num_features, double eps, double momentum)
    : num_features_(num_features), eps_(eps), momentum_(momentum) {
  weight = register_parameter("weight", torch::ones({num_features}));
  bias = register_parameter("bias", torch::zeros({num_features}));
  running_mean = register_buffer("running_mean", torch::zeros({num_features}));
  running_var = register_buffer("running_var", torch::ones({num_features}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kInt64));
}

torch::Tensor SyncBatchNormImpl::forward(const torch::Tensor& x) {
  return forward_fused(x, false, PoolSize{});
}

torch::Tensor SyncBatchNormImpl::forward_fused(const torch::Tensor& x, bool relu, PoolSize pool,
                                               const MicroBatches* micro) {
  BatchNormOptions options;
  options.training = is_training();
  options.momentum = momentum_;
  options.eps = eps_;
  options.relu = relu;
  options.pool = pool;
  options.all_reduce = &all_reduce_;
  options.micro = micro;
  if (options.training) {
    torch::NoGradGuard no_grad;
    num_batches_tracked.add_(1);
  }
  return batch_norm_relu_pool(x, weight, bias, running_mean, running_var, options);
}

}  // namespace cfma::nn
