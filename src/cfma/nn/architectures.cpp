#include "cfma/nn/architectures.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/activation.h>

#include "cfma/core/error.hpp"
#include "cfma/nn/deform_conv.hpp"
#include "cfma/nn/single_channel_conv.hpp"

namespace cfma::nn {
namespace {

using torch::Tensor;
using Pair = std::array<std::int64_t, 2>;

// ---- the registry: geometry of the three conv blocks per CNN (reference-spec 3.1) ----------
struct ConvGeometry {
  std::int64_t channels;
  Pair kernel, stride, padding, dilation;
};
struct CnnTable {
  ConvGeometry conv1, conv2, conv3;
  Pair pool1, pool2;
  bool deformable = false;
};

const Pair k5{5, 5}, one{1, 1}, zero{0, 0};

const std::vector<std::pair<std::string, CnnTable>>& cnn_tables() {
  static const std::vector<std::pair<std::string, CnnTable>> tables = {
      {"regular", {{10, k5, one, zero, one}, {20, k5, {3, 3}, {3, 3}, one}, {30, k5, {2, 2}, zero, one},
                   {2, 2}, {2, 2}}},
      {"cnn1", {{5, k5, one, zero, one}, {10, k5, {3, 3}, {3, 3}, one}, {10, k5, {2, 2}, zero, one},
                {2, 2}, {2, 2}}},
      {"cnn2", {{10, k5, one, zero, one}, {10, k5, {3, 3}, {3, 3}, one}, {10, k5, {2, 2}, zero, one},
                {2, 2}, {2, 2}}},
      {"deformable", {{10, k5, one, zero, one}, {20, k5, {3, 3}, {3, 3}, one},
                      {30, k5, {2, 2}, zero, one}, {2, 2}, {2, 2}, true}},
      {"dilated", {{10, k5, one, zero, {3, 3}}, {20, k5, {2, 2}, {3, 3}, {2, 2}},
                   {30, k5, {2, 2}, {1, 1}, one}, {2, 2}, {2, 2}}},
      {"freq1d", {{10, {5, 1}, one, zero, {3, 1}}, {20, {5, 1}, {2, 1}, {3, 0}, {2, 1}},
                  {30, {5, 1}, {2, 1}, {1, 0}, one}, {2, 1}, {2, 1}}},
      {"time1d", {{10, {1, 5}, one, zero, {1, 3}}, {20, {1, 5}, {1, 2}, {0, 3}, {1, 2}},
                  {30, {1, 5}, {1, 2}, {0, 1}, one}, {1, 2}, {1, 2}}},
  };
  return tables;
}
constexpr std::int64_t hidden_units = 120;  // fc1 of every architecture

LayerSpec conv_layer(const std::string& name, const ConvGeometry& g, LayerKind kind) {
  LayerSpec l{kind, name, name};
  l.out = g.channels;
  l.kernel = g.kernel;
  l.stride = g.stride;
  l.padding = g.padding;
  l.dilation = g.dilation;
  return l;
}
LayerSpec bn_layer(const std::string& name, const std::string& capture, Pair pool) {
  LayerSpec l{LayerKind::bn_relu_pool, name, capture};
  l.pool = pool;
  l.relu = true;
  return l;
}
LayerSpec linear_layer(const std::string& name, const std::string& capture, std::int64_t out,
                       bool relu) {
  LayerSpec l{LayerKind::linear, name, capture};
  l.out = out;
  l.relu = relu;
  return l;
}

std::vector<LayerSpec> cnn_layers(const CnnTable& t, std::int64_t num_outputs) {
  return {conv_layer("conv1", t.conv1, LayerKind::conv),
          bn_layer("bn1", "pool1", t.pool1),
          conv_layer("conv2", t.conv2, LayerKind::conv),
          bn_layer("bn2", "pool2", t.pool2),
          conv_layer("conv3", t.conv3, t.deformable ? LayerKind::deform_conv : LayerKind::conv),
          bn_layer("bn3", "", one),
          LayerSpec{LayerKind::flatten, "", ""},
          linear_layer("fc1", "fc1", hidden_units, true),
          linear_layer("fc2", "", num_outputs, false)};
}

std::vector<LayerSpec> feedforward_layers(std::int64_t num_outputs) {
  return {LayerSpec{LayerKind::flatten, "", ""},
          linear_layer("fc1", "", hidden_units, false),
          bn_layer("bn1", "fc1", one),
          linear_layer("fc2", "", num_outputs, false)};
}

// ---- shape inference ------------------------------------------------------------------------
struct Shape {
  std::int64_t c, h, w;
};

std::int64_t conv_out(std::int64_t n, std::int64_t k, std::int64_t s, std::int64_t p, std::int64_t d) {
  return (n + 2 * p - d * (k - 1) - 1) / s + 1;
}

// Output shape of each layer for one 1x128x128 example.
std::vector<Shape> infer_shapes(const std::vector<LayerSpec>& layers, DeformMode mode) {
  std::vector<Shape> shapes;
  Shape s{1, input_height, input_width};
  for (const auto& l : layers) {
    switch (l.kind) {
      case LayerKind::conv:
        s = {l.out, conv_out(s.h, l.kernel[0], l.stride[0], l.padding[0], l.dilation[0]),
             conv_out(s.w, l.kernel[1], l.stride[1], l.padding[1], l.dilation[1])};
        break;
      case LayerKind::deform_conv:
        if (mode == DeformMode::paper)  // output = offset map of a k3/p1 conv with the stride
          s = {l.out, conv_out(s.h, 3, l.stride[0], 1, 1), conv_out(s.w, 3, l.stride[1], 1, 1)};
        else
          s = {l.out, conv_out(s.h, l.kernel[0], l.stride[0], l.padding[0], l.dilation[0]),
               conv_out(s.w, l.kernel[1], l.stride[1], l.padding[1], l.dilation[1])};
        break;
      case LayerKind::bn_relu_pool:
        s = {s.c, s.h / l.pool[0], s.w / l.pool[1]};
        break;
      case LayerKind::flatten:
        s = {s.c * s.h * s.w, 1, 1};
        break;
      case LayerKind::linear:
        s = {l.out, 1, 1};
        break;
    }
    if (s.h < 1 || s.w < 1) throw ModelError("layer '" + l.name + "' has an empty output");
    shapes.push_back(s);
  }
  return shapes;
}

// ---- initialisation exactly as PyTorch 1.x's reset_parameters ------------------------------
// kaiming_uniform_(w, a=sqrt(5)) for weights: bound = sqrt(3) * gain / sqrt(fan_in) with
// gain = sqrt(2 / (1 + a^2)); biases U(+-1/sqrt(fan_in)). Written with the same floating-point
// operations so the drawn values equal the original's bit for bit.
void init_weight(Tensor& w, std::int64_t fan_in, at::Generator& gen) {
  const double a = std::sqrt(5.0);
  const double gain = std::sqrt(2.0 / (1 + a * a));
  const double bound = std::sqrt(3.0) * (gain / std::sqrt(static_cast<double>(fan_in)));
  torch::NoGradGuard no_grad;
  w.uniform_(-bound, bound, gen);
}
void init_bias(Tensor& b, std::int64_t fan_in, at::Generator& gen) {
  const double bound = 1 / std::sqrt(static_cast<double>(fan_in));
  torch::NoGradGuard no_grad;
  b.uniform_(-bound, bound, gen);
}

// ---- layer modules ----------------------------------------------------------------------------
class ConvImpl : public torch::nn::Module {
 public:
  ConvImpl(std::int64_t in, const LayerSpec& l, bool with_bias, at::Generator& gen)
      : stride_(l.stride), padding_(l.padding), dilation_(l.dilation) {
    weight = register_parameter("weight", torch::empty({l.out, in, l.kernel[0], l.kernel[1]}));
    const std::int64_t fan_in = in * l.kernel[0] * l.kernel[1];
    init_weight(weight, fan_in, gen);
    if (with_bias) {
      bias = register_parameter("bias", torch::empty({l.out}));
      init_bias(bias, fan_in, gen);
    }
    direct_ = in == 1 && l.stride == one && l.padding == zero;
  }
  Tensor forward(const Tensor& x) { return forward_with(x, weight, bias); }
  // With other parameter tensors of the same shapes (micro-batch copies).
  Tensor forward_with(const Tensor& x, const Tensor& w, const Tensor& b) {
    if (direct_) return single_channel_conv2d(x, w, b, dilation_[0], dilation_[1]);
    return torch::conv2d(x, w, b, {stride_[0], stride_[1]}, {padding_[0], padding_[1]},
                         {dilation_[0], dilation_[1]});
  }
  // Takes its parameters from `p` at `at` (parameters() order: weight, bias) and advances `at`.
  Tensor forward_with(const Tensor& x, const std::vector<Tensor>& p, std::size_t& at) {
    const Tensor& w = p[at++];
    const Tensor b = bias.defined() ? p[at++] : Tensor();
    return forward_with(x, w, b);
  }
  Tensor weight, bias;

 private:
  Pair stride_, padding_, dilation_;
  bool direct_ = false;  // one input channel, stride 1, no padding: the direct kernel
};
TORCH_MODULE(Conv);

// The paper's DeformConv2d: `conv` (the sampling conv, no bias in paper mode) and `p_conv`
// (offsets; weight zero). Paper mode: p_conv is k3/p1 with the layer's stride (offset map = output
// grid). dcnv2 mode: p_conv has the layer's own geometry and zero weight and bias, so the layer
// starts as an ordinary convolution; the sampling conv has a bias (torchvision's default).
class DeformImpl : public torch::nn::Module {
 public:
  DeformImpl(std::int64_t in, const LayerSpec& l, DeformMode mode, at::Generator& gen)
      : mode_(mode) {
    geometry_ = {l.kernel[0], l.kernel[1], l.stride[0], l.stride[1], l.padding[0], l.padding[1],
                 l.dilation[0], l.dilation[1]};
    conv = register_module("conv", Conv(in, l, mode == DeformMode::dcnv2, gen));
    LayerSpec offsets = l;
    offsets.out = 2 * l.kernel[0] * l.kernel[1];
    if (mode == DeformMode::paper) {
      offsets.kernel = {3, 3};
      offsets.padding = {1, 1};
      offsets.dilation = one;
    }
    p_conv = register_module("p_conv", Conv(in, offsets, true, gen));
    torch::NoGradGuard no_grad;
    p_conv->weight.zero_();
    if (mode == DeformMode::dcnv2) p_conv->bias.zero_();
  }
  Tensor forward(const Tensor& x) {
    const Tensor offset = p_conv->forward(x);
    return deform_conv2d(x, offset, conv->weight, conv->bias, Tensor(), geometry_, mode_);
  }
  // parameters() order: conv.weight, [conv.bias], p_conv.weight, p_conv.bias.
  Tensor forward_with(const Tensor& x, const std::vector<Tensor>& p, std::size_t& at) {
    const Tensor& w = p[at++];
    const Tensor b = conv->bias.defined() ? p[at++] : Tensor();
    const Tensor offset = p_conv->forward_with(x, p, at);
    return deform_conv2d(x, offset, w, b, Tensor(), geometry_, mode_);
  }
  Conv conv{nullptr}, p_conv{nullptr};

 private:
  DeformMode mode_;
  DeformGeometry geometry_;
};
TORCH_MODULE(Deform);

class LinearImpl : public torch::nn::Module {
 public:
  LinearImpl(std::int64_t in, std::int64_t out, at::Generator& gen) {
    weight = register_parameter("weight", torch::empty({out, in}));
    bias = register_parameter("bias", torch::empty({out}));
    init_weight(weight, in, gen);
    init_bias(bias, in, gen);
  }
  Tensor forward(const Tensor& x) { return torch::addmm(bias, x, weight.t()); }
  Tensor forward_with(const Tensor& x, const std::vector<Tensor>& p, std::size_t& at) {
    const Tensor& w = p[at++];
    const Tensor& b = p[at++];
    return torch::addmm(b, x, w.t());
  }
  Tensor weight, bias;
};
TORCH_MODULE(Linear);

std::string joined_names() {
  std::string s;
  for (const auto& n : architecture_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

std::vector<std::string> architecture_names() {
  std::vector<std::string> names;
  for (const auto& [name, table] : cnn_tables()) names.push_back(name);
  names.push_back("feedforward");
  return names;
}

std::vector<LayerSpec> layer_specs(const ModelSpec& spec) {
  if (spec.num_outputs < 1)
    throw ModelError("architecture '" + spec.arch + "': num_outputs must be >= 1, got " +
                     std::to_string(spec.num_outputs));
  parse_deform_mode(spec.deformable_mode);
  if (spec.arch == "feedforward") return feedforward_layers(spec.num_outputs);
  for (const auto& [name, table] : cnn_tables())
    if (name == spec.arch) return cnn_layers(table, spec.num_outputs);
  throw ModelError("unknown architecture '" + spec.arch + "' (valid: " + joined_names() + ")");
}

std::vector<LayerInfo> layer_infos(const ModelSpec& spec) {
  const auto layers = layer_specs(spec);
  const auto shapes = infer_shapes(layers, parse_deform_mode(spec.deformable_mode));
  std::vector<LayerInfo> infos;
  for (std::size_t k = 0; k < layers.size(); ++k)
    if (!layers[k].capture.empty())
      infos.push_back({layers[k].capture, {shapes[k].c, shapes[k].h, shapes[k].w}});
  return infos;
}

std::vector<std::string> layer_ids(const std::string& arch) {
  ModelSpec spec;
  spec.arch = arch;
  std::vector<std::string> ids;
  for (const auto& l : layer_specs(spec))
    if (!l.capture.empty()) ids.push_back(l.capture);
  return ids;
}

std::vector<std::string> layer_ids() {
  std::vector<std::string> ids;  // union in order of first appearance = forward order
  for (const auto& arch : architecture_names())
    for (auto& id : layer_ids(arch))
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
  return ids;
}

NetImpl::NetImpl(const ModelSpec& spec) : spec_(spec), layers_(layer_specs(spec)) {
  const DeformMode mode = parse_deform_mode(spec.deformable_mode);
  const auto shapes = infer_shapes(layers_, mode);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(spec.seed);
  Shape in{1, input_height, input_width};
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    const LayerSpec& l = layers_[k];
    std::shared_ptr<torch::nn::Module> m;
    switch (l.kind) {
      case LayerKind::conv:
        m = register_module(l.name, Conv(in.c, l, true, gen));
        break;
      case LayerKind::deform_conv:
        m = register_module(l.name, Deform(in.c, l, mode, gen));
        break;
      case LayerKind::bn_relu_pool:
        m = register_module(l.name, SyncBatchNorm(in.c));
        break;
      case LayerKind::flatten:
        break;
      case LayerKind::linear:
        m = register_module(l.name, Linear(in.c * in.h * in.w, l.out, gen));
        break;
    }
    modules_.push_back(m);
    in = shapes[k];
  }
}

torch::Tensor NetImpl::forward(const torch::Tensor& x) { return forward(x, {}, nullptr); }

torch::Tensor NetImpl::forward(const torch::Tensor& x, const std::vector<std::string>& capture,
                               std::map<std::string, torch::Tensor>* captured) {
  if (x.dim() != 4 || x.size(1) != 1 || x.size(2) != input_height || x.size(3) != input_width)
    throw ModelError("architecture '" + spec_.arch + "' expects input [B,1,128,128], got " +
                     std::to_string(x.dim()) + "-D " + c10::str(x.sizes()));
  for (const auto& id : capture) {
    bool known = false;
    for (const auto& l : layers_) known = known || l.capture == id;
    if (!known)
      throw ModelError("architecture '" + spec_.arch + "' has no capturable layer '" + id + "'");
  }
  if (!capture.empty() && captured == nullptr)
    throw ModelError("forward: layers requested for capture but no output map given");
  Tensor h = x;
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    const LayerSpec& l = layers_[k];
    switch (l.kind) {
      case LayerKind::conv:
        h = std::static_pointer_cast<ConvImpl>(modules_[k])->forward(h);
        break;
      case LayerKind::deform_conv:
        h = std::static_pointer_cast<DeformImpl>(modules_[k])->forward(h);
        break;
      case LayerKind::bn_relu_pool:
        h = std::static_pointer_cast<SyncBatchNormImpl>(modules_[k])
                ->forward_fused(h, l.relu, PoolSize{l.pool[0], l.pool[1]});
        break;
      case LayerKind::flatten:
        h = h.flatten(1);
        break;
      case LayerKind::linear:
        h = std::static_pointer_cast<LinearImpl>(modules_[k])->forward(h);
        if (l.relu) h = torch::relu(h);
        break;
    }
    if (!l.capture.empty() && captured != nullptr &&
        std::find(capture.begin(), capture.end(), l.capture) != capture.end())
      (*captured)[l.capture] = h;
  }
  if (spec_.double_softmax && spec_.num_outputs > 1) h = torch::softmax(h, 1);
  return h;
}

std::vector<torch::Tensor> NetImpl::replicated_parameters() const {
  std::vector<Tensor> params;
  for (std::size_t k = 0; k < layers_.size(); ++k)
    if (modules_[k] && layers_[k].kind != LayerKind::bn_relu_pool)
      for (const auto& p : modules_[k]->parameters()) params.push_back(p);
  return params;
}

NetImpl::MicroBatchPass NetImpl::forward_micro_batches(const std::vector<torch::Tensor>& xs,
                                                       const MicroBatchReduce& reduce) {
  MicroBatchPass pass;
  const auto originals = replicated_parameters();
  // A rank without micro-batches still takes part in every BatchNorm reduction: it sends an
  // empty batch through the layers (with the parameters themselves; nothing is read back).
  const bool idle = xs.empty();
  std::vector<Tensor> h = idle ? std::vector<Tensor>{torch::empty({0, 1, input_height, input_width})} : xs;
  for (const auto& x : h)
    if (x.dim() != 4 || x.size(1) != 1 || x.size(2) != input_height || x.size(3) != input_width)
      throw ModelError("architecture '" + spec_.arch + "' expects input [B,1,128,128], got " + c10::str(x.sizes()));
  std::vector<std::vector<Tensor>> params(h.size());
  for (std::size_t j = 0; j < h.size(); ++j)
    for (const auto& p : originals) params[j].push_back(idle ? p : p.detach().requires_grad_(true));
  if (!idle) pass.copies = params;
  MicroBatches micro;
  micro.reduce = reduce;
  std::vector<std::size_t> at(h.size(), 0);
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    const LayerSpec& l = layers_[k];
    if (l.kind == LayerKind::bn_relu_pool) {
      micro.rows.clear();
      if (!idle)
        for (const auto& t : h) micro.rows.push_back(t.size(0));
      const auto out = std::static_pointer_cast<SyncBatchNormImpl>(modules_[k])
                           ->forward_fused(torch::cat(h), l.relu, PoolSize{l.pool[0], l.pool[1]}, &micro);
      if (idle) h = {out};
      else h = out.split_with_sizes(micro.rows);
      continue;
    }
    for (std::size_t j = 0; j < h.size(); ++j) {
      switch (l.kind) {
        case LayerKind::conv:
          h[j] = std::static_pointer_cast<ConvImpl>(modules_[k])->forward_with(h[j], params[j], at[j]);
          break;
        case LayerKind::deform_conv:
          h[j] = std::static_pointer_cast<DeformImpl>(modules_[k])->forward_with(h[j], params[j], at[j]);
          break;
        case LayerKind::flatten:
          h[j] = h[j].flatten(1);
          break;
        case LayerKind::linear:
          h[j] = std::static_pointer_cast<LinearImpl>(modules_[k])->forward_with(h[j], params[j], at[j]);
          if (l.relu) h[j] = torch::relu(h[j]);
          break;
        case LayerKind::bn_relu_pool:
          break;
      }
    }
  }
  for (auto& t : h)
    if (spec_.double_softmax && spec_.num_outputs > 1) t = torch::softmax(t, 1);
  pass.outputs = std::move(h);
  return pass;
}

void NetImpl::set_stats_all_reduce(const StatsAllReduce& all_reduce) {
  for (const auto& m : modules_)
    if (auto bn = std::dynamic_pointer_cast<SyncBatchNormImpl>(m)) bn->set_all_reduce(all_reduce);
}

Net build_model(const ModelSpec& spec) {
  Net net(spec);
  net->train();
  return net;
}

std::int64_t parameter_count(const torch::nn::Module& module) {
  std::int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace cfma::nn
