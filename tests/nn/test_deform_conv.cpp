// Deformable convolution: slow reference from plain LibTorch ops (gather), finite-difference
// gradient checks in double precision, the paper's clamping rule, and the dcnv2 reduction to
// an ordinary convolution.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>

#include <ATen/CPUGeneratorImpl.h>

#include "cfma/core/error.hpp"
#include "cfma/nn/deform_conv.hpp"

using cfma::nn::DeformGeometry;
using cfma::nn::DeformMode;
using torch::Tensor;
namespace F = torch::nn::functional;

namespace {

// Gathers x[b, c, rows, cols] for integer index maps [B, K, Ho, Wo] -> [B, C, K, Ho, Wo].
Tensor gather_at(const Tensor& x, const Tensor& rows, const Tensor& cols) {
  const auto B = x.size(0), C = x.size(1), W = x.size(3);
  Tensor index = (rows * W + cols).view({B, 1, -1}).expand({B, C, rows[0].numel()});
  return x.reshape({B, C, -1}).gather(2, index).view({B, C, rows.size(1), rows.size(2), rows.size(3)});
}

// [B, C, K, Ho, Wo] -> tiled [B, C, Ho*kh, Wo*kw].
Tensor tile(const Tensor& v, int64_t kh, int64_t kw) {
  const auto B = v.size(0), C = v.size(1), Ho = v.size(3), Wo = v.size(4);
  return v.view({B, C, kh, kw, Ho, Wo}).permute({0, 1, 4, 2, 5, 3}).reshape({B, C, Ho * kh, Wo * kw});
}

// The original 4uiiurz1 code, restated with LibTorch ops.
Tensor paper_reference(Tensor x, const Tensor& offset, const DeformGeometry& g) {
  const int64_t K = g.kernel_h * g.kernel_w, Ho = offset.size(2), Wo = offset.size(3);
  x = torch::constant_pad_nd(x, {g.pad_w, g.pad_w, g.pad_h, g.pad_h});
  auto opts = offset.options();
  Tensor kr = torch::arange(K, opts).div(g.kernel_w, "floor") - (g.kernel_h - 1) / 2;
  Tensor kc = torch::arange(K, opts).remainder(g.kernel_w) - (g.kernel_w - 1) / 2;
  Tensor i0 = 1 + g.stride_h * torch::arange(Ho, opts);
  Tensor j0 = 1 + g.stride_w * torch::arange(Wo, opts);
  Tensor pr = i0.view({1, 1, Ho, 1}) + kr.view({1, K, 1, 1}) + offset.slice(1, 0, K);
  Tensor pc = j0.view({1, 1, 1, Wo}) + kc.view({1, K, 1, 1}) + offset.slice(1, K, 2 * K);
  const double top_r = static_cast<double>(x.size(2) - 1), top_c = static_cast<double>(x.size(3) - 1);
  Tensor qr_lt = pr.detach().floor(), qc_lt = pc.detach().floor();
  Tensor qr_rb = (qr_lt + 1).clamp(0, top_r), qc_rb = (qc_lt + 1).clamp(0, top_c);
  qr_lt = qr_lt.clamp(0, top_r);
  qc_lt = qc_lt.clamp(0, top_c);
  pr = pr.clamp(0, top_r);
  pc = pc.clamp(0, top_c);
  Tensor ar = 1 + (qr_lt - pr), br = 1 - (qr_rb - pr), ac = 1 + (qc_lt - pc), bc = 1 - (qc_rb - pc);
  auto L = [](const Tensor& t) { return t.to(torch::kLong); };
  Tensor v = (ar * ac).unsqueeze(1) * gather_at(x, L(qr_lt), L(qc_lt)) +
             (br * bc).unsqueeze(1) * gather_at(x, L(qr_rb), L(qc_rb)) +
             (ar * bc).unsqueeze(1) * gather_at(x, L(qr_lt), L(qc_rb)) +
             (br * ac).unsqueeze(1) * gather_at(x, L(qr_rb), L(qc_lt));
  return tile(v, g.kernel_h, g.kernel_w);
}

// torchvision semantics with LibTorch ops.
Tensor dcnv2_reference(const Tensor& x, const Tensor& offset, const Tensor& mask, const DeformGeometry& g) {
  const int64_t K = g.kernel_h * g.kernel_w, Ho = offset.size(2), Wo = offset.size(3);
  const int64_t H = x.size(2), W = x.size(3);
  auto opts = offset.options();
  Tensor kr = torch::arange(K, opts).div(g.kernel_w, "floor") * g.dil_h;
  Tensor kc = torch::arange(K, opts).remainder(g.kernel_w) * g.dil_w;
  Tensor i0 = torch::arange(Ho, opts) * g.stride_h - g.pad_h;
  Tensor j0 = torch::arange(Wo, opts) * g.stride_w - g.pad_w;
  Tensor h = i0.view({1, 1, Ho, 1}) + kr.view({1, K, 1, 1}) + offset.slice(1, 0, 2 * K, 2);
  Tensor w = j0.view({1, 1, 1, Wo}) + kc.view({1, K, 1, 1}) + offset.slice(1, 1, 2 * K, 2);
  Tensor inside = ((h > -1) & (h < H) & (w > -1) & (w < W)).to(x.scalar_type());
  Tensor h_low = h.detach().floor(), w_low = w.detach().floor();
  Tensor lh = h - h_low, lw = w - w_low, hh = 1 - lh, hw = 1 - lw;
  auto corner = [&](const Tensor& r, const Tensor& c, const Tensor& weight) {
    Tensor valid = ((r >= 0) & (r <= H - 1) & (c >= 0) & (c <= W - 1)).to(x.scalar_type());
    Tensor v = gather_at(x, r.clamp(0, H - 1).to(torch::kLong), c.clamp(0, W - 1).to(torch::kLong));
    return (weight * valid * inside).unsqueeze(1) * v;
  };
  Tensor v = corner(h_low, w_low, hh * hw) + corner(h_low, w_low + 1, hh * lw) +
             corner(h_low + 1, w_low, lh * hw) + corner(h_low + 1, w_low + 1, lh * lw);
  if (mask.defined()) v = v * mask.unsqueeze(1);
  return tile(v, g.kernel_h, g.kernel_w);
}

// Central finite differences of sum(f() * probe) w.r.t. `count` random elements of `t`,
// against the analytical gradient `analytic`.
void expect_finite_difference(const std::function<Tensor()>& f, Tensor t, const Tensor& analytic,
                              const Tensor& probe, int count, const char* what) {
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  Tensor flat = t.view(-1);
  Tensor picks = torch::randperm(flat.numel(), gen, torch::kLong).slice(0, 0, count);
  const double eps = 1e-6;
  for (int64_t k = 0; k < picks.numel(); ++k) {
    const int64_t e = picks[k].item<int64_t>();
    const double v = flat[e].item<double>();
    flat[e] = v + eps;
    const double up = (f() * probe).sum().item<double>();
    flat[e] = v - eps;
    const double down = (f() * probe).sum().item<double>();
    flat[e] = v;
    EXPECT_NEAR((up - down) / (2 * eps), analytic.view(-1)[e].item<double>(), 1e-5)
        << what << " element " << e;
  }
}

struct Case {
  DeformMode mode;
  DeformGeometry g;
  bool with_mask;
};

void check_case(const Case& c, int64_t H, int64_t W, int64_t Ho, int64_t Wo) {
  torch::manual_seed(3);
  const int64_t B = 2, C = 3, O = 4, K = c.g.kernel_h * c.g.kernel_w;
  auto d = torch::TensorOptions().dtype(torch::kFloat64);
  Tensor x = torch::randn({B, C, H, W}, d).requires_grad_();
  // Offsets of a few pixels push many taps outside the map (clamping / zero regions).
  Tensor off = (3 * torch::randn({B, 2 * K, Ho, Wo}, d)).requires_grad_();
  Tensor mask = c.with_mask ? torch::rand({B, K, Ho, Wo}, d).requires_grad_() : Tensor();
  Tensor weight = torch::randn({O, C, c.g.kernel_h, c.g.kernel_w}, d).requires_grad_();

  auto ours = [&] { return cfma::nn::deform_conv2d(x, off, weight, Tensor(), mask, c.g, c.mode); };
  auto ref_cols = [&] {
    return c.mode == DeformMode::paper ? paper_reference(x, off, c.g) : dcnv2_reference(x, off, mask, c.g);
  };
  Tensor out = ours();
  Tensor ref = torch::conv2d(ref_cols(), weight, {}, {c.g.kernel_h, c.g.kernel_w});
  ASSERT_EQ(out.sizes(), ref.sizes());
  EXPECT_LT((out - ref).abs().max().item<double>(), 1e-10);

  Tensor probe = torch::randn(out.sizes(), d);
  std::vector<Tensor> inputs = {x, off, weight};
  if (mask.defined()) inputs.push_back(mask);
  auto grads = torch::autograd::grad({(out * probe).sum()}, inputs);
  auto ref_grads = torch::autograd::grad({(ref * probe).sum()}, inputs);
  for (size_t k = 0; k < inputs.size(); ++k)
    EXPECT_LT((grads[k] - ref_grads[k]).abs().max().item<double>(), 1e-9) << "input " << k;

  auto value = [&] { return ours().detach(); };
  expect_finite_difference(value, x.detach(), grads[0], probe, 30, "input");
  expect_finite_difference(value, off.detach(), grads[1], probe, 30, "offset");
  expect_finite_difference(value, weight.detach(), grads[2], probe, 20, "weight");
  if (mask.defined()) expect_finite_difference(value, mask.detach(), grads[3], probe, 20, "mask");
}

}  // namespace

TEST(DeformConv, PaperModeMatchesGatherReferenceAndFiniteDifferences) {
  // The paper's layer: k5, stride 2, 11x11 input, 6x6 offset grid.
  check_case({DeformMode::paper, {5, 5, 2, 2, 0, 0, 1, 1}, false}, 11, 11, 6, 6);
  // With zero padding and a 3x3 kernel.
  check_case({DeformMode::paper, {3, 3, 1, 1, 1, 1, 1, 1}, false}, 7, 6, 5, 4);
}

TEST(DeformConv, Dcnv2MatchesGatherReferenceAndFiniteDifferences) {
  check_case({DeformMode::dcnv2, {3, 3, 1, 1, 1, 1, 1, 1}, true}, 7, 6, 7, 6);
  check_case({DeformMode::dcnv2, {3, 2, 2, 1, 0, 1, 2, 1}, false}, 9, 6, 3, 7);
}

TEST(DeformConv, PaperClampDoublesBorderTaps) {
  // Constant-ones input, zero offsets (reference-spec 3.1 step 4): output (0,0), tap (0,0) sits
  // at (-1,-1) -> both axes doubled -> 4; tap (2,2) at (1,1) -> 1; tap (0,2) at (-1,1) -> 2.
  Tensor x = torch::ones({1, 1, 11, 11});
  Tensor off = torch::zeros({1, 50, 6, 6});
  Tensor cols = cfma::nn::deform_sample(x, off, Tensor(), {5, 5, 2, 2, 0, 0, 1, 1}, DeformMode::paper);
  ASSERT_EQ(cols.sizes(), (torch::IntArrayRef{1, 1, 30, 30}));
  EXPECT_FLOAT_EQ(cols[0][0][0][0].item<float>(), 4.0f);
  EXPECT_FLOAT_EQ(cols[0][0][2][2].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(cols[0][0][0][2].item<float>(), 2.0f);
  // Last output row (i = 5): centre 11 is beyond the map (top 10): tap row 2 -> doubled.
  EXPECT_FLOAT_EQ(cols[0][0][27][2].item<float>(), 2.0f);
  // An interior tap: output (2,2) centre (5,5).
  EXPECT_FLOAT_EQ(cols[0][0][12][12].item<float>(), 1.0f);
}

TEST(DeformConv, Dcnv2ZeroOffsetsIsConv2d) {
  torch::manual_seed(5);
  Tensor x = torch::randn({2, 4, 10, 9});
  Tensor w = torch::randn({6, 4, 3, 3});
  Tensor b = torch::randn({6});
  DeformGeometry g{3, 3, 2, 1, 1, 2, 2, 1};
  Tensor expected = torch::conv2d(x, w, b, {2, 1}, {1, 2}, {2, 1});
  Tensor off = torch::zeros({2, 18, expected.size(2), expected.size(3)});
  Tensor out = cfma::nn::deform_conv2d(x, off, w, b, Tensor(), g, DeformMode::dcnv2);
  EXPECT_LT((out - expected).abs().max().item<float>(), 1e-4);
}

TEST(DeformConv, RejectsBadInputs) {
  Tensor x = torch::zeros({1, 2, 8, 8});
  EXPECT_THROW(cfma::nn::deform_sample(x, torch::zeros({1, 5, 4, 4}), Tensor(), {}, DeformMode::paper),
               cfma::ModelError);
  EXPECT_THROW(cfma::nn::parse_deform_mode("dcnv3"), cfma::ModelError);
  // dcnv2: offset map must match the convolution output (8x8 for k3 s1 p1).
  EXPECT_THROW(cfma::nn::deform_sample(x, torch::zeros({1, 18, 4, 4}), Tensor(), {3, 3, 1, 1, 1, 1, 1, 1},
                                       DeformMode::dcnv2),
               cfma::ModelError);
}
