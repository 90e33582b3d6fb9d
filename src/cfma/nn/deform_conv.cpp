#include "cfma/nn/deform_conv.hpp"

#include <algorithm>
#include <cmath>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "cfma/core/error.hpp"

namespace cfma::nn {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

struct SampleShape {
  std::int64_t batch, channels, height, width, out_h, out_w, taps;
};

// One bilinear sample: value = sum_k weight[k] * x[index[k]] (index -1: zero), and the
// derivatives of the weights with respect to the row (y) and column (x) coordinate.
template <typename scalar_t>
struct Tap {
  std::int64_t index[4];
  scalar_t weight[4], d_row[4], d_col[4];
};

// Paper rule along one axis (reference-spec 3.1 step 4): neighbours from the unclamped floor,
// clamped into [0, size-1]; coordinate clamped likewise; weights 1+(lo-p), 1-(hi-p).
template <typename scalar_t>
struct PaperAxis {
  std::int64_t lo, hi;
  scalar_t w_lo, w_hi, inside;  // inside: d(clamped p)/dp
  PaperAxis(scalar_t p, std::int64_t size) {
    const scalar_t top = static_cast<scalar_t>(size - 1);
    const scalar_t f = std::floor(p);
    const scalar_t qlo = std::clamp(f, scalar_t(0), top);
    const scalar_t qhi = std::clamp(f + 1, scalar_t(0), top);
    const scalar_t pc = std::clamp(p, scalar_t(0), top);
    lo = static_cast<std::int64_t>(qlo);
    hi = static_cast<std::int64_t>(qhi);
    w_lo = 1 + (qlo - pc);
    w_hi = 1 - (qhi - pc);
    inside = (p >= 0 && p <= top) ? scalar_t(1) : scalar_t(0);
  }
};

template <typename scalar_t>
Tap<scalar_t> paper_tap(scalar_t py, scalar_t px, std::int64_t padded_h, std::int64_t padded_w,
                        std::int64_t pad_h, std::int64_t pad_w, std::int64_t height,
                        std::int64_t width) {
  const PaperAxis<scalar_t> r(py, padded_h), c(px, padded_w);
  // Padded coordinates -> input index; the zero padding reads as -1.
  auto at = [&](std::int64_t row, std::int64_t col) -> std::int64_t {
    const std::int64_t y = row - pad_h, x = col - pad_w;
    return (y < 0 || y >= height || x < 0 || x >= width) ? -1 : y * width + x;
  };
  Tap<scalar_t> t;
  const std::int64_t rows[4] = {r.lo, r.hi, r.lo, r.hi};
  const std::int64_t cols[4] = {c.lo, c.hi, c.hi, c.lo};
  const scalar_t wr[4] = {r.w_lo, r.w_hi, r.w_lo, r.w_hi};
  const scalar_t wc[4] = {c.w_lo, c.w_hi, c.w_hi, c.w_lo};
  const scalar_t dr[4] = {-r.inside, r.inside, -r.inside, r.inside};
  const scalar_t dc[4] = {-c.inside, c.inside, c.inside, -c.inside};
  for (int k = 0; k < 4; ++k) {
    t.index[k] = at(rows[k], cols[k]);
    t.weight[k] = wr[k] * wc[k];
    t.d_row[k] = dr[k] * wc[k];
    t.d_col[k] = wr[k] * dc[k];
  }
  return t;
}

// torchvision's bilinear_interpolate / get_coordinate_weight: zero outside the input.
template <typename scalar_t>
Tap<scalar_t> dcnv2_tap(scalar_t h, scalar_t w, std::int64_t height, std::int64_t width) {
  Tap<scalar_t> t;
  for (int k = 0; k < 4; ++k) {
    t.index[k] = -1;
    t.weight[k] = t.d_row[k] = t.d_col[k] = 0;
  }
  if (h <= -1 || h >= height || w <= -1 || w >= width) return t;
  const auto h_low = static_cast<std::int64_t>(std::floor(h));
  const auto w_low = static_cast<std::int64_t>(std::floor(w));
  const std::int64_t h_high = h_low + 1, w_high = w_low + 1;
  const scalar_t lh = h - static_cast<scalar_t>(h_low), lw = w - static_cast<scalar_t>(w_low);
  const scalar_t hh = 1 - lh, hw = 1 - lw;
  const std::int64_t rows[4] = {h_low, h_low, h_high, h_high};
  const std::int64_t cols[4] = {w_low, w_high, w_low, w_high};
  const scalar_t weight[4] = {hh * hw, hh * lw, lh * hw, lh * lw};
  const scalar_t d_row[4] = {-hw, -lw, hw, lw};
  const scalar_t d_col[4] = {-hh, hh, -lh, lh};
  for (int k = 0; k < 4; ++k) {
    if (rows[k] < 0 || rows[k] >= height || cols[k] < 0 || cols[k] >= width) continue;
    t.index[k] = rows[k] * width + cols[k];
    t.weight[k] = weight[k];
    t.d_row[k] = d_row[k];
    t.d_col[k] = d_col[k];
  }
  return t;
}

// Calls fn(n, i, j, tap, mask value) for every output position and kernel tap of sample b.
template <typename scalar_t, typename Fn>
void for_each_tap(std::int64_t b, const SampleShape& s, const DeformGeometry& g, DeformMode mode,
                  const scalar_t* offset, const scalar_t* mask, Fn&& fn) {
  const std::int64_t plane = s.out_h * s.out_w;
  const scalar_t* off = offset + b * 2 * s.taps * plane;
  const scalar_t* msk = mask ? mask + b * s.taps * plane : nullptr;
  for (std::int64_t n = 0; n < s.taps; ++n) {
    const std::int64_t kr = n / g.kernel_w, kc = n % g.kernel_w;
    const std::int64_t row_channel = mode == DeformMode::paper ? n : 2 * n;
    const std::int64_t col_channel = mode == DeformMode::paper ? s.taps + n : 2 * n + 1;
    for (std::int64_t i = 0; i < s.out_h; ++i)
      for (std::int64_t j = 0; j < s.out_w; ++j) {
        const std::int64_t pos = i * s.out_w + j;
        const scalar_t oy = off[row_channel * plane + pos], ox = off[col_channel * plane + pos];
        Tap<scalar_t> tap;
        if (mode == DeformMode::paper) {
          // p = p0 + p_n + offset, p0 = 1 + stride*i, p_n = k - (kernel-1)/2.
          const auto base_y = static_cast<scalar_t>(1 + g.stride_h * i + kr - (g.kernel_h - 1) / 2);
          const auto base_x = static_cast<scalar_t>(1 + g.stride_w * j + kc - (g.kernel_w - 1) / 2);
          tap = paper_tap<scalar_t>(base_y + oy, base_x + ox, s.height + 2 * g.pad_h,
                                    s.width + 2 * g.pad_w, g.pad_h, g.pad_w, s.height, s.width);
        } else {
          const auto base_y = static_cast<scalar_t>(i * g.stride_h - g.pad_h + kr * g.dil_h);
          const auto base_x = static_cast<scalar_t>(j * g.stride_w - g.pad_w + kc * g.dil_w);
          tap = dcnv2_tap<scalar_t>(base_y + oy, base_x + ox, s.height, s.width);
        }
        fn(n, i, j, tap, msk ? msk[n * plane + pos] : scalar_t(1));
      }
  }
}

SampleShape shape_of(const Tensor& input, const Tensor& offset, const DeformGeometry& g) {
  return {input.size(0), input.size(1), input.size(2), input.size(3),
          offset.size(2), offset.size(3), g.kernel_h * g.kernel_w};
}

void pack_geometry(AutogradContext* ctx, const DeformGeometry& g, DeformMode mode) {
  ctx->saved_data["geometry"] = std::vector<std::int64_t>{g.kernel_h, g.kernel_w, g.stride_h,
                                                          g.stride_w, g.pad_h, g.pad_w,
                                                          g.dil_h, g.dil_w};
  ctx->saved_data["mode"] = static_cast<std::int64_t>(mode);
}

struct DeformSampleFn : public torch::autograd::Function<DeformSampleFn> {
  static Tensor forward(AutogradContext* ctx, Tensor input, Tensor offset,
                        c10::optional<Tensor> mask_or_none,
                        std::vector<std::int64_t> geometry, std::int64_t mode_value) {
    const DeformGeometry g{geometry[0], geometry[1], geometry[2], geometry[3],
                           geometry[4], geometry[5], geometry[6], geometry[7]};
    const auto mode = static_cast<DeformMode>(mode_value);
    const Tensor x = input.contiguous(), off = offset.contiguous();
    const Tensor m = mask_or_none ? mask_or_none->contiguous() : Tensor();
    const SampleShape s = shape_of(x, off, g);
    Tensor columns =
        torch::empty({s.batch, s.channels, s.out_h * g.kernel_h, s.out_w * g.kernel_w}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "cfma_deform_sample", [&] {
      const scalar_t* xp = x.data_ptr<scalar_t>();
      const scalar_t* op = off.data_ptr<scalar_t>();
      const scalar_t* mp = m.defined() ? m.data_ptr<scalar_t>() : nullptr;
      scalar_t* cp = columns.data_ptr<scalar_t>();
      const std::int64_t in_plane = s.height * s.width;
      const std::int64_t col_w = s.out_w * g.kernel_w;
      const std::int64_t col_plane = s.out_h * g.kernel_h * col_w;
      at::parallel_for(0, s.batch, 1, [&](std::int64_t b0, std::int64_t b1) {
        for (std::int64_t b = b0; b < b1; ++b)
          for_each_tap<scalar_t>(b, s, g, mode, op, mp,
                                 [&](std::int64_t n, std::int64_t i, std::int64_t j,
                                     const Tap<scalar_t>& tap, scalar_t mv) {
            const std::int64_t kr = n / g.kernel_w, kc = n % g.kernel_w;
            const std::int64_t at = (i * g.kernel_h + kr) * col_w + j * g.kernel_w + kc;
            for (std::int64_t c = 0; c < s.channels; ++c) {
              const scalar_t* xc = xp + (b * s.channels + c) * in_plane;
              scalar_t v = 0;
              for (int k = 0; k < 4; ++k)
                if (tap.index[k] >= 0) v += tap.weight[k] * xc[tap.index[k]];
              cp[(b * s.channels + c) * col_plane + at] = mv * v;
            }
          });
      });
    });
    ctx->save_for_backward({x, off, m});
    pack_geometry(ctx, g, mode);
    return columns;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const Tensor& x = saved[0];
    const Tensor& off = saved[1];
    const Tensor& m = saved[2];
    const auto gv = ctx->saved_data["geometry"].toIntVector();
    const DeformGeometry g{gv[0], gv[1], gv[2], gv[3], gv[4], gv[5], gv[6], gv[7]};
    const auto mode = static_cast<DeformMode>(ctx->saved_data["mode"].toInt());
    const Tensor grad = grad_outputs[0].contiguous();
    const SampleShape s = shape_of(x, off, g);
    Tensor grad_x = torch::zeros(x.sizes(), x.options());
    Tensor grad_off = torch::zeros(off.sizes(), off.options());
    Tensor grad_m = m.defined() ? torch::zeros(m.sizes(), m.options()) : Tensor();
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "cfma_deform_sample_backward", [&] {
      const scalar_t* xp = x.data_ptr<scalar_t>();
      const scalar_t* op = off.data_ptr<scalar_t>();
      const scalar_t* mp = m.defined() ? m.data_ptr<scalar_t>() : nullptr;
      const scalar_t* gp = grad.data_ptr<scalar_t>();
      scalar_t* gxp = grad_x.data_ptr<scalar_t>();
      scalar_t* gop = grad_off.data_ptr<scalar_t>();
      scalar_t* gmp = m.defined() ? grad_m.data_ptr<scalar_t>() : nullptr;
      const std::int64_t in_plane = s.height * s.width;
      const std::int64_t col_w = s.out_w * g.kernel_w;
      const std::int64_t col_plane = s.out_h * g.kernel_h * col_w;
      const std::int64_t out_plane = s.out_h * s.out_w;
      at::parallel_for(0, s.batch, 1, [&](std::int64_t b0, std::int64_t b1) {
        for (std::int64_t b = b0; b < b1; ++b)
          for_each_tap<scalar_t>(b, s, g, mode, op, mp,
                                 [&](std::int64_t n, std::int64_t i, std::int64_t j,
                                     const Tap<scalar_t>& tap, scalar_t mv) {
            const std::int64_t kr = n / g.kernel_w, kc = n % g.kernel_w;
            const std::int64_t at = (i * g.kernel_h + kr) * col_w + j * g.kernel_w + kc;
            scalar_t g_row = 0, g_col = 0, g_mask = 0;
            for (std::int64_t c = 0; c < s.channels; ++c) {
              const scalar_t gc = gp[(b * s.channels + c) * col_plane + at];
              const scalar_t* xc = xp + (b * s.channels + c) * in_plane;
              scalar_t* gxc = gxp + (b * s.channels + c) * in_plane;
              scalar_t v = 0, vr = 0, vc = 0;
              for (int k = 0; k < 4; ++k) {
                if (tap.index[k] < 0) continue;
                const scalar_t xv = xc[tap.index[k]];
                v += tap.weight[k] * xv;
                vr += tap.d_row[k] * xv;
                vc += tap.d_col[k] * xv;
                gxc[tap.index[k]] += gc * mv * tap.weight[k];
              }
              g_row += gc * vr;
              g_col += gc * vc;
              g_mask += gc * v;
            }
            const std::int64_t pos = i * s.out_w + j;
            const std::int64_t row_channel = mode == DeformMode::paper ? n : 2 * n;
            const std::int64_t col_channel = mode == DeformMode::paper ? s.taps + n : 2 * n + 1;
            scalar_t* go = gop + b * 2 * s.taps * out_plane;
            go[row_channel * out_plane + pos] = mv * g_row;
            go[col_channel * out_plane + pos] = mv * g_col;
            if (gmp) gmp[(b * s.taps + n) * out_plane + pos] = g_mask;
          });
      });
    });
    return {grad_x, grad_off, grad_m, Tensor(), Tensor()};
  }
};

void check_inputs(const Tensor& input, const Tensor& offset, const Tensor& mask,
                  const DeformGeometry& g, DeformMode mode) {
  const std::int64_t taps = g.kernel_h * g.kernel_w;
  if (input.dim() != 4 || offset.dim() != 4 || offset.size(0) != input.size(0) ||
      offset.size(1) != 2 * taps)
    throw ModelError("deform_conv2d: expected input [B,C,H,W] and offset [B," +
                     std::to_string(2 * taps) + ",Ho,Wo]");
  if (offset.scalar_type() != input.scalar_type())
    throw ModelError("deform_conv2d: input and offset dtypes differ");
  if (mode == DeformMode::paper) {
    if (mask.defined()) throw ModelError("deform_conv2d: paper mode (DCNv1) takes no mask");
    if (g.dil_h != 1 || g.dil_w != 1)
      throw ModelError("deform_conv2d: paper mode (DCNv1) has no dilation");
    return;
  }
  const std::int64_t out_h = (input.size(2) + 2 * g.pad_h - g.dil_h * (g.kernel_h - 1) - 1) / g.stride_h + 1;
  const std::int64_t out_w = (input.size(3) + 2 * g.pad_w - g.dil_w * (g.kernel_w - 1) - 1) / g.stride_w + 1;
  if (offset.size(2) != out_h || offset.size(3) != out_w)
    throw ModelError("deform_conv2d (dcnv2): offset map is " + std::to_string(offset.size(2)) +
                     "x" + std::to_string(offset.size(3)) + ", convolution output is " +
                     std::to_string(out_h) + "x" + std::to_string(out_w));
  if (mask.defined() && (mask.dim() != 4 || mask.size(1) != taps || mask.size(2) != out_h ||
                         mask.size(3) != out_w || mask.size(0) != input.size(0)))
    throw ModelError("deform_conv2d (dcnv2): mask must be [B," + std::to_string(taps) + "," +
                     std::to_string(out_h) + "," + std::to_string(out_w) + "]");
}

}  // namespace

DeformMode parse_deform_mode(const std::string& name) {
  if (name == "paper") return DeformMode::paper;
  if (name == "dcnv2") return DeformMode::dcnv2;
  throw ModelError("unknown deformable mode '" + name + "' (valid: paper, dcnv2)");
}

std::string to_string(DeformMode mode) { return mode == DeformMode::paper ? "paper" : "dcnv2"; }

torch::Tensor deform_sample(const torch::Tensor& input, const torch::Tensor& offset,
                            const torch::Tensor& mask, const DeformGeometry& geometry,
                            DeformMode mode) {
  check_inputs(input, offset, mask, geometry, mode);
  // Undefined tensors cannot enter an autograd Function: an absent mask is an empty optional.
  return DeformSampleFn::apply(input, offset,
                               mask.defined() ? c10::optional<Tensor>(mask) : c10::nullopt,
                               std::vector<std::int64_t>{geometry.kernel_h, geometry.kernel_w,
                                                         geometry.stride_h, geometry.stride_w,
                                                         geometry.pad_h, geometry.pad_w,
                                                         geometry.dil_h, geometry.dil_w},
                               static_cast<std::int64_t>(mode));
}

torch::Tensor deform_conv2d(const torch::Tensor& input, const torch::Tensor& offset,
                            const torch::Tensor& weight, const torch::Tensor& bias,
                            const torch::Tensor& mask, const DeformGeometry& geometry,
                            DeformMode mode) {
  const Tensor columns = deform_sample(input, offset, mask, geometry, mode);
  return torch::conv2d(columns, weight, bias, {geometry.kernel_h, geometry.kernel_w});
}

}  // namespace cfma::nn
