#pragma once
// The architecture registry (reference-spec section 3): every network is a table of layer
// specs (architectures.cpp), built by one builder into one module type, Net. There is no
// per-architecture forward code.
//
// Forward of a Net = the layers of its table in order. Block layout of the CNNs:
//   conv1 -> bn1+ReLU+pool (id pool1) -> conv2 -> bn2+ReLU+pool (pool2) -> conv3 -> bn3+ReLU
//   -> flatten -> fc1+ReLU (fc1) -> fc2 (head) [-> softmax if double_softmax]
// feedforward: flatten -> fc1 -> bn1+ReLU (fc1) -> fc2 (head) [-> softmax].
// Module names follow the original classes (conv1, bn1, ..., conv3.conv / conv3.p_conv for the
// deformable layer, fc1, fc2), so parameter names match the original state dicts.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "cfma/nn/batch_norm.hpp"

namespace cfma::nn {

struct ModelSpec {
  std::string arch;             // one of architecture_names()
  int num_outputs = 8;          // 8 families; 1 = regression head (pitch, velocity)
  bool double_softmax = false;  // Q1: softmax inside forward (the original family nets)
  std::string deformable_mode = "paper";  // "paper" (DCNv1 as the paper ran it) or "dcnv2"
  std::uint64_t seed = 0;       // initialisation seed (= torch.manual_seed of the original)
};

enum class LayerKind {
  conv,          // Conv2d (with bias)
  deform_conv,   // deformable conv (module with .conv and .p_conv)
  bn_relu_pool,  // BatchNorm (+ReLU, +max-pool), fused
  flatten,       // [B, C, H, W] -> [B, C*H*W]
  linear,        // Linear (+ReLU if relu)
};

struct LayerSpec {
  LayerKind kind;
  std::string name;     // module name (conv1, bn1, fc1, ...); empty for flatten
  std::string capture;  // capture id (conv1 pool1 conv2 pool2 conv3 fc1) or empty
  std::int64_t out = 0;  // output channels / features; 0 on the head = num_outputs
  std::array<std::int64_t, 2> kernel{1, 1}, stride{1, 1}, padding{0, 0}, dilation{1, 1};
  std::array<std::int64_t, 2> pool{1, 1};
  bool relu = false;    // bn_relu_pool and linear
};

struct LayerInfo {
  std::string id;                   // capture id
  std::array<std::int64_t, 3> shape;  // (C, H, W) per example for a 1x128x128 input; fc1: (120,1,1)
  std::int64_t size() const { return shape[0] * shape[1] * shape[2]; }
};

// Names in registry order: regular cnn1 cnn2 deformable dilated freq1d time1d feedforward.
std::vector<std::string> architecture_names();
// The layer table of an architecture (head size from spec.num_outputs). Throws ModelError for
// an unknown name, listing the valid ones, or a bad deformable_mode / num_outputs.
std::vector<LayerSpec> layer_specs(const ModelSpec& spec);
// Capturable layers with their per-example output shapes, in forward order.
std::vector<LayerInfo> layer_infos(const ModelSpec& spec);
// The capture ids of one architecture, in forward order (feedforward: fc1 only). Throws
// ModelError for an unknown architecture.
std::vector<std::string> layer_ids(const std::string& arch);
// Every capture id of the registry, in forward order (conv1 pool1 conv2 pool2 conv3 fc1): what
// a config may name in extract.layers, probe.layers or probe.concat_layer.
std::vector<std::string> layer_ids();
// Input image size every architecture is defined for (1 x 128 x 128 log-mel).
constexpr std::int64_t input_height = 128;
constexpr std::int64_t input_width = 128;

class NetImpl : public torch::nn::Module {
 public:
  explicit NetImpl(const ModelSpec& spec);

  // x: [B, 1, 128, 128]. Classification: [B, num_outputs] logits (softmax probabilities when
  // double_softmax). Regression (num_outputs == 1): [B, 1].
  torch::Tensor forward(const torch::Tensor& x);
  // Same, and stores the layers named in `capture` into *captured (ids from layer_infos()):
  // conv outputs before BatchNorm, pool outputs after BN+ReLU+pool, fc1 after ReLU, each
  // [B, C, H, W] (fc1: [B, 120]). Unknown ids throw ModelError. Costs nothing extra.
  torch::Tensor forward(const torch::Tensor& x, const std::vector<std::string>& capture,
                        std::map<std::string, torch::Tensor>* captured);

  // Installs the cross-rank BatchNorm statistics reduction on every BN layer (empty function:
  // local statistics). See batch_norm.hpp for the contract.
  void set_stats_all_reduce(const StatsAllReduce& all_reduce);

  // Deterministic data parallelism (train/step.hpp). `xs`: this rank's consecutive micro-batches
  // (possibly none). Each goes through every conv and linear layer on its own, with its own
  // leaf copy of the layer's parameters (copies[j], in replicated_parameters() order), so
  // autograd leaves each micro-batch's parameter gradient in its copies' grad; BatchNorm takes
  // them together, its statistics summed per micro-batch and combined by `reduce`
  // (batch_norm.hpp, MicroBatches). A rank with no micro-batch sends an empty batch through,
  // so it joins every reduction (outputs: that one empty batch, copies: none). Training mode.
  struct MicroBatchPass {
    std::vector<torch::Tensor> outputs;             // per micro-batch
    std::vector<std::vector<torch::Tensor>> copies;  // [micro-batch][replicated parameter]
  };
  MicroBatchPass forward_micro_batches(const std::vector<torch::Tensor>& xs, const MicroBatchReduce& reduce);
  // The conv and linear layers' parameters (copied per micro-batch), in parameters() order;
  // the rest (BatchNorm's) is shared.
  std::vector<torch::Tensor> replicated_parameters() const;

  const ModelSpec& spec() const { return spec_; }
  const std::vector<LayerSpec>& layers() const { return layers_; }

 private:
  ModelSpec spec_;
  std::vector<LayerSpec> layers_;
  std::vector<std::shared_ptr<torch::nn::Module>> modules_;  // parallel to layers_ (null: flatten)
};
TORCH_MODULE(Net);

// Builds and initialises a network: PyTorch's default init (weights and biases
// U(+-1/sqrt(fan_in)), BN weight 1 / bias 0) drawn from a generator seeded with spec.seed, in
// the original's construction order, so the values equal the original's after
// torch.manual_seed(seed). The deformable offset conv weight is zero (its bias keeps the
// default init). The returned net is in training mode.
Net build_model(const ModelSpec& spec);

// Total number of parameter elements.
std::int64_t parameter_count(const torch::nn::Module& module);

}  // namespace cfma::nn
