// Architecture registry: parameter counts, shapes, capture, determinism, double softmax.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cfma/core/error.hpp"
#include "cfma/nn/architectures.hpp"

using cfma::nn::ModelSpec;
using torch::Tensor;

TEST(Architectures, ParameterCountsMatchThePaper) {
  const std::vector<std::pair<std::string, int64_t>> expected = {
      {"cnn1", 24238},     {"cnn2", 25628},      {"regular", 79118},  {"deformable", 160138},
      {"dilated", 151118}, {"freq1d", 2770118}, {"time1d", 2770118}, {"feedforward", 1967408}};
  for (const auto& [arch, count] : expected) {
    EXPECT_EQ(cfma::nn::parameter_count(*cfma::nn::build_model({arch, 8})), count) << arch;
    // Regression head: fc2 120->1 instead of 120->8 (968 -> 121 parameters).
    EXPECT_EQ(cfma::nn::parameter_count(*cfma::nn::build_model({arch, 1})), count - 847) << arch;
  }
  EXPECT_EQ(cfma::nn::parameter_count(*cfma::nn::build_model({"regular", 1})), 78271);
  EXPECT_EQ(cfma::nn::parameter_count(*cfma::nn::build_model({"deformable", 1})), 159291);
  EXPECT_EQ(cfma::nn::architecture_names().size(), 8u);
}

TEST(Architectures, UnknownArchitectureNamesTheValidOnes) {
  try {
    cfma::nn::build_model({"resnet", 8});
    FAIL() << "expected ModelError";
  } catch (const cfma::ModelError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("resnet"), std::string::npos);
    EXPECT_NE(what.find("deformable"), std::string::npos);
    EXPECT_NE(what.find("feedforward"), std::string::npos);
  }
  EXPECT_THROW(cfma::nn::build_model({"deformable", 8, false, "dcnv9"}), cfma::ModelError);
}

TEST(Architectures, LayerInfosGiveThePaperShapes) {
  using Shape = std::array<int64_t, 3>;
  auto shapes = [](const std::string& arch) {
    std::map<std::string, Shape> m;
    for (const auto& l : cfma::nn::layer_infos({arch, 8})) m[l.id] = l.shape;
    return m;
  };
  auto regular = shapes("regular");
  EXPECT_EQ(regular["conv1"], (Shape{10, 124, 124}));
  EXPECT_EQ(regular["pool1"], (Shape{10, 62, 62}));
  EXPECT_EQ(regular["conv2"], (Shape{20, 22, 22}));
  EXPECT_EQ(regular["pool2"], (Shape{20, 11, 11}));
  EXPECT_EQ(regular["conv3"], (Shape{30, 4, 4}));
  EXPECT_EQ(regular["fc1"], (Shape{120, 1, 1}));
  EXPECT_EQ(shapes("deformable")["conv3"], (Shape{30, 6, 6}));
  EXPECT_EQ(shapes("dilated")["conv1"], (Shape{10, 116, 116}));
  EXPECT_EQ(shapes("dilated")["conv3"], (Shape{30, 6, 6}));
  EXPECT_EQ(shapes("freq1d")["pool2"], (Shape{20, 14, 128}));
  EXPECT_EQ(shapes("freq1d")["conv3"], (Shape{30, 6, 128}));
  EXPECT_EQ(shapes("time1d")["conv2"], (Shape{20, 128, 28}));
  EXPECT_EQ(shapes("time1d")["conv3"], (Shape{30, 128, 6}));
  auto ff = cfma::nn::layer_infos({"feedforward", 8});
  ASSERT_EQ(ff.size(), 1u);
  EXPECT_EQ(ff[0].id, "fc1");
  EXPECT_EQ(cfma::nn::layer_infos({"deformable", 8, false, "dcnv2"})[4].shape, (Shape{30, 4, 4}));
}

TEST(Architectures, LayerIdsComeFromTheRegistry) {
  using Ids = std::vector<std::string>;
  EXPECT_EQ(cfma::nn::layer_ids(), (Ids{"conv1", "pool1", "conv2", "pool2", "conv3", "fc1"}));
  EXPECT_EQ(cfma::nn::layer_ids("feedforward"), (Ids{"fc1"}));
  for (const auto& arch : {"regular", "cnn1", "cnn2", "deformable", "dilated", "freq1d", "time1d"})
    EXPECT_EQ(cfma::nn::layer_ids(arch), cfma::nn::layer_ids()) << arch;
  EXPECT_THROW(cfma::nn::layer_ids("resnet"), cfma::ModelError);
}

TEST(Architectures, ForwardCapturesEveryLayerWithItsShape) {
  torch::manual_seed(9);
  Tensor x = torch::randn({3, 1, 128, 128});
  for (const auto& arch : cfma::nn::architecture_names()) {
    for (const std::string mode : {"paper", "dcnv2"}) {
      if (mode == "dcnv2" && arch != "deformable") continue;
      ModelSpec spec{arch, 8, false, mode, 1};
      auto net = cfma::nn::build_model(spec);
      const auto infos = cfma::nn::layer_infos(spec);
      std::vector<std::string> ids;
      for (const auto& l : infos) ids.push_back(l.id);
      std::map<std::string, Tensor> captured;
      Tensor out = net->forward(x, ids, &captured);
      EXPECT_EQ(out.sizes(), (torch::IntArrayRef{3, 8})) << arch;
      for (const auto& l : infos) {
        ASSERT_TRUE(captured.count(l.id)) << arch << " " << l.id;
        EXPECT_EQ(captured[l.id].numel(), 3 * l.size()) << arch << " " << l.id;
      }
      // Same output without capture; backward runs.
      Tensor again = net->forward(x);
      EXPECT_EQ(again.sizes(), out.sizes());
      torch::nn::functional::cross_entropy(again, torch::tensor({0, 3, 7})).backward();
      for (const auto& p : net->parameters()) ASSERT_TRUE(p.grad().defined()) << arch;
    }
  }
}

TEST(Architectures, CapturedLayersAreAsTheOriginalHooksSawThem) {
  torch::manual_seed(10);
  auto net = cfma::nn::build_model({"regular", 8, false, "paper", 17});
  Tensor x = torch::randn({4, 1, 128, 128});
  std::map<std::string, Tensor> cap;
  net->forward(x, {"conv1", "pool1", "conv3", "fc1"}, &cap);
  auto params = net->named_parameters();
  auto buffers = net->named_buffers();
  Tensor conv1 = torch::conv2d(x, params["conv1.weight"], params["conv1.bias"]);
  EXPECT_LT((cap["conv1"] - conv1).abs().max().item<float>(), 1e-4);  // before BatchNorm
  // pool1 = maxpool(relu(bn(conv1))) with batch statistics (train mode); the running stats
  // were already updated by the forward above, so use fresh ones here.
  Tensor rm = torch::zeros({10}), rv = torch::ones({10});
  Tensor pool1 = torch::max_pool2d(
      torch::relu(torch::batch_norm(conv1, params["bn1.weight"], params["bn1.bias"], rm, rv, true, 0.1, 1e-5, false)), 2);
  EXPECT_LT((cap["pool1"] - pool1).abs().max().item<float>(), 1e-4);
  EXPECT_EQ(cap["fc1"].sizes(), (torch::IntArrayRef{4, 120}));
  EXPECT_GE(cap["fc1"].min().item<float>(), 0.0f);  // after ReLU
  EXPECT_EQ(buffers["bn1.num_batches_tracked"].item<int64_t>(), 1);
  EXPECT_THROW(net->forward(x, {"conv4"}, &cap), cfma::ModelError);
}

TEST(Architectures, InitIsDeterministicPerSeedAndFollowsPyTorchDefaults) {
  auto a = cfma::nn::build_model({"deformable", 8, false, "paper", 25});
  auto b = cfma::nn::build_model({"deformable", 8, false, "paper", 25});
  auto c = cfma::nn::build_model({"deformable", 8, false, "paper", 26});
  auto pa = a->named_parameters(), pb = b->named_parameters(), pc = c->named_parameters();
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  EXPECT_FALSE(torch::equal(pa["conv1.weight"], pc["conv1.weight"]));
  // Bounds: conv1 fan_in 25 -> 0.2; fc1 fan_in 1080; offset conv weight zero, bias U(+-1/sqrt(180)).
  EXPECT_LE(pa["conv1.weight"].abs().max().item<float>(), 0.2f);
  EXPECT_GT(pa["conv1.weight"].abs().max().item<float>(), 0.15f);
  EXPECT_LE(pa["fc1.weight"].abs().max().item<float>(), 1 / std::sqrt(1080.0f));
  EXPECT_EQ(pa["conv3.p_conv.weight"].abs().max().item<float>(), 0.0f);
  EXPECT_GT(pa["conv3.p_conv.bias"].abs().max().item<float>(), 0.0f);
  EXPECT_LE(pa["conv3.p_conv.bias"].abs().max().item<float>(), 1 / std::sqrt(180.0f));
  EXPECT_FALSE(pa.contains("conv3.conv.bias"));  // sampling conv without bias
  EXPECT_EQ(pa["bn1.weight"].sum().item<float>(), 10.0f);
  // Init coincidence (reference-spec 3.1): same seed -> deformable's conv1, conv2 and sampling
  // conv weights equal the regular net's conv1, conv2, conv3 weights.
  auto r = cfma::nn::build_model({"regular", 8, false, "paper", 25});
  auto pr = r->named_parameters();
  EXPECT_TRUE(torch::equal(pr["conv2.weight"], pa["conv2.weight"]));
  EXPECT_TRUE(torch::equal(pr["conv3.weight"], pa["conv3.conv.weight"]));
}

TEST(Architectures, DoubleSoftmaxAndRegressionHeads) {
  torch::manual_seed(11);
  Tensor x = torch::randn({2, 1, 128, 128});
  auto soft = cfma::nn::build_model({"cnn1", 8, true, "paper", 1});
  Tensor p = soft->forward(x);
  EXPECT_NEAR(p.sum(1)[0].item<float>(), 1.0f, 1e-5);
  EXPECT_GE(p.min().item<float>(), 0.0f);
  auto logits = cfma::nn::build_model({"cnn1", 8, false, "paper", 1});
  Tensor l = logits->forward(x);
  EXPECT_LT((torch::softmax(l, 1) - p).abs().max().item<float>(), 1e-6);  // same init
  auto reg = cfma::nn::build_model({"regular", 1, true, "paper", 1});
  EXPECT_EQ(reg->forward(x).sizes(), (torch::IntArrayRef{2, 1}));  // no softmax on 1 output
}

// Micro-batch forward (NetImpl::forward_micro_batches): per-micro-batch parameter copies whose
// gradients, added up with BatchNorm's global ones, equal the gradient of one whole-batch pass
// to rounding; the outputs equal the whole-batch forward's.
TEST(Architectures, MicroBatchForwardEqualsWholeBatch) {
  for (const std::string arch : {"regular", "deformable", "feedforward"}) {
    ModelSpec spec;
    spec.arch = arch;
    spec.seed = 3;
    torch::manual_seed(11);
    const Tensor x = torch::randn({6, 1, 128, 128});
    const Tensor y = torch::randint(0, 8, {6}, torch::kLong);
    auto whole = cfma::nn::build_model(spec);
    const Tensor out = whole->forward(x);
    torch::nn::functional::cross_entropy(out, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
        .backward();

    auto micro = cfma::nn::build_model(spec);
    const auto reduce = [](const Tensor& partial) { return partial.sum(0); };
    auto pass = micro->forward_micro_batches({x.slice(0, 0, 2), x.slice(0, 2, 4), x.slice(0, 4, 6)}, reduce);
    ASSERT_EQ(pass.outputs.size(), 3u);
    ASSERT_EQ(pass.copies.size(), 3u);
    Tensor loss;
    for (int j = 0; j < 3; ++j) {
      const auto l = torch::nn::functional::cross_entropy(
          pass.outputs[static_cast<std::size_t>(j)], y.slice(0, 2 * j, 2 * j + 2),
          torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
      loss = j == 0 ? l : loss + l;
    }
    loss.backward();
    EXPECT_LT((torch::cat(pass.outputs) - out).abs().max().item<double>(), 1e-4) << arch;
    // Replicated parameters: the copies' gradients added over micro-batches.
    const auto replicated = micro->replicated_parameters();
    const auto whole_replicated = whole->replicated_parameters();
    ASSERT_EQ(replicated.size(), pass.copies[0].size());
    for (std::size_t p = 0; p < replicated.size(); ++p) {
      Tensor sum = torch::zeros_like(replicated[p]);
      for (const auto& copies : pass.copies) sum += copies[p].grad();
      const double scale = whole_replicated[p].grad().abs().max().item<double>();
      EXPECT_LT((sum - whole_replicated[p].grad()).abs().max().item<double>(), 1e-3 * std::max(1.0, scale))
          << arch << " replicated parameter " << p;
    }
    // BatchNorm parameters: their gradient is the global one already.
    const auto params = micro->named_parameters(), whole_params = whole->named_parameters();
    int bn = 0;
    for (const auto& item : params) {
      if (item.key().find("bn") == std::string::npos) continue;
      ++bn;
      const auto& expected = whole_params[item.key()].grad();
      EXPECT_LT((item.value().grad() - expected).abs().max().item<double>(),
                1e-3 * std::max(1.0, expected.abs().max().item<double>()))
          << arch << " " << item.key();
    }
    EXPECT_GT(bn, 0) << arch;
  }
}
