// SyncBatchNorm: plain BatchNorm2d/1d semantics, the fused ReLU+pool, the single-channel conv,
// and cross-rank synchronisation simulated with two threads exchanging their sums.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <barrier>
#include <thread>

#include "cfma/nn/batch_norm.hpp"
#include "cfma/nn/single_channel_conv.hpp"

using cfma::nn::PoolSize;
using cfma::nn::SyncBatchNorm;
using torch::Tensor;

namespace {
double max_diff(const Tensor& a, const Tensor& b) { return (a - b).abs().max().item<double>(); }
}  // namespace

TEST(SyncBatchNorm, MatchesTorchBatchNorm2dTrainAndEval) {
  torch::manual_seed(1);
  SyncBatchNorm ours(3);
  torch::nn::BatchNorm2d theirs(3);
  {
    torch::NoGradGuard g;
    Tensor w = torch::rand({3}) + 0.5, b = torch::randn({3});
    ours->weight.copy_(w); theirs->weight.copy_(w);
    ours->bias.copy_(b); theirs->bias.copy_(b);
  }
  for (int step = 0; step < 2; ++step) {
    Tensor x = (torch::randn({4, 3, 5, 6}) * 2 + 1).requires_grad_();
    Tensor probe = torch::randn({4, 3, 5, 6});
    Tensor a = ours->forward(x), b = theirs->forward(x);
    EXPECT_LT(max_diff(a, b), 1e-5);
    auto ga = torch::autograd::grad({(a * probe).sum()}, {x, ours->weight, ours->bias});
    auto gb = torch::autograd::grad({(b * probe).sum()}, {x, theirs->weight, theirs->bias});
    for (int k = 0; k < 3; ++k) EXPECT_LT(max_diff(ga[k], gb[k]), 1e-4) << k;
  }
  EXPECT_LT(max_diff(ours->running_mean, theirs->running_mean), 1e-6);
  EXPECT_LT(max_diff(ours->running_var, theirs->running_var), 1e-6);
  EXPECT_EQ(ours->num_batches_tracked.item<int64_t>(), 2);
  ours->eval();
  theirs->eval();
  Tensor x = torch::randn({2, 3, 5, 6}).requires_grad_();
  Tensor a = ours->forward(x), b = theirs->forward(x);
  EXPECT_LT(max_diff(a, b), 1e-5);
  auto ga = torch::autograd::grad({a.square().sum()}, {x, ours->weight});
  auto gb = torch::autograd::grad({b.square().sum()}, {x, theirs->weight});
  EXPECT_LT(max_diff(ga[0], gb[0]), 1e-4);
  EXPECT_LT(max_diff(ga[1], gb[1]), 1e-4);
}

TEST(SyncBatchNorm, MatchesTorchBatchNorm1d) {
  torch::manual_seed(2);
  SyncBatchNorm ours(5);
  torch::nn::BatchNorm1d theirs(5);
  Tensor x = torch::randn({7, 5}).requires_grad_();
  Tensor a = ours->forward(x), b = theirs->forward(x);
  EXPECT_LT(max_diff(a, b), 1e-5);
  auto ga = torch::autograd::grad({(a * a.detach().cos()).sum()}, {x});
  auto gb = torch::autograd::grad({(b * b.detach().cos()).sum()}, {x});
  EXPECT_LT(max_diff(ga[0], gb[0]), 1e-5);
  EXPECT_LT(max_diff(ours->running_var, theirs->running_var), 1e-6);
}

TEST(SyncBatchNorm, FusedReluPoolMatchesSeparateOps) {
  torch::manual_seed(3);
  auto d = torch::TensorOptions().dtype(torch::kFloat64);
  SyncBatchNorm bn(4);
  bn->to(torch::kFloat64);
  {
    torch::NoGradGuard g;
    bn->weight.copy_(torch::randn({4}, d));  // negative scales too: max must be taken after BN
    bn->bias.copy_(torch::randn({4}, d));
  }
  for (bool training : {true, false}) {
    bn->train(training);
    for (PoolSize pool : {PoolSize{2, 2}, PoolSize{2, 1}, PoolSize{1, 3}}) {
      Tensor x = torch::randn({3, 4, 9, 10}, d).requires_grad_();
      Tensor rm = bn->running_mean.clone(), rv = bn->running_var.clone();
      Tensor a = bn->forward_fused(x, true, pool);
      Tensor z = torch::batch_norm(x, bn->weight, bn->bias, rm, rv, training, 0.1, 1e-5, false);
      Tensor b = torch::max_pool2d(torch::relu(z), {pool.h, pool.w});
      ASSERT_EQ(a.sizes(), b.sizes());
      EXPECT_LT(max_diff(a, b), 1e-12);
      Tensor probe = torch::randn(a.sizes(), d);
      auto ga = torch::autograd::grad({(a * probe).sum()}, {x, bn->weight, bn->bias});
      auto gb = torch::autograd::grad({(b * probe).sum()}, {x, bn->weight, bn->bias});
      for (int k = 0; k < 3; ++k) EXPECT_LT(max_diff(ga[k], gb[k]), 1e-10) << k;
    }
  }
}

TEST(SingleChannelConv, MatchesConv2dWithGradients) {
  torch::manual_seed(4);
  auto d = torch::TensorOptions().dtype(torch::kFloat64);
  for (auto dil : {std::pair<int64_t, int64_t>{1, 1}, {3, 1}, {2, 3}}) {
    Tensor x = torch::randn({3, 1, 20, 17}, d).requires_grad_();
    Tensor w = torch::randn({4, 1, 5, 3}, d).requires_grad_();
    Tensor b = torch::randn({4}, d).requires_grad_();
    Tensor a = cfma::nn::single_channel_conv2d(x, w, b, dil.first, dil.second);
    Tensor r = torch::conv2d(x, w, b, torch::IntArrayRef{1}, torch::IntArrayRef{0},
                             torch::IntArrayRef{dil.first, dil.second});
    ASSERT_EQ(a.sizes(), r.sizes());
    EXPECT_LT(max_diff(a, r), 1e-12);
    Tensor probe = torch::randn(a.sizes(), d);
    auto ga = torch::autograd::grad({(a * probe).sum()}, {x, w, b});
    auto gr = torch::autograd::grad({(r * probe).sum()}, {x, w, b});
    for (int k = 0; k < 3; ++k) EXPECT_LT(max_diff(ga[k], gr[k]), 1e-10) << k;
  }
}

// One process with batch 2B must equal two ranks with B each whose StatsAllReduce adds the
// other's sums (forward statistics and backward gradient sums), after averaging the ranks'
// parameter gradients as the trainer does (sum / P).
TEST(SyncBatchNorm, TwoSimulatedRanksEqualOneProcess) {
  torch::manual_seed(5);
  const int64_t B = 4;
  Tensor x = torch::randn({2 * B, 3, 8, 8});
  Tensor target = torch::randn({2 * B, 2, 4, 4});
  Tensor w0 = torch::randn({2, 3, 3, 3}) * 0.3;

  struct Result {
    Tensor loss, grad_w, grad_gamma, grad_beta, running_mean;
  };
  auto run = [&](const Tensor& xs, const Tensor& ts, const cfma::nn::StatsAllReduce& all_reduce) {
    Tensor w = w0.clone().requires_grad_();
    SyncBatchNorm bn(2);
    {
      torch::NoGradGuard g;
      bn->weight.copy_(torch::tensor({1.5f, 0.7f}));
      bn->bias.copy_(torch::tensor({0.1f, -0.2f}));
    }
    bn->set_all_reduce(all_reduce);
    Tensor h = bn->forward_fused(torch::conv2d(xs, w, {}, 1, 1), true, {2, 2});
    Tensor loss = (h - ts).square().mean();
    loss.backward();
    return Result{loss.detach(), w.grad(), bn->weight.grad(), bn->bias.grad(), bn->running_mean.clone()};
  };
  const Result whole = run(x, target, {});

  std::barrier<> sync(2);
  Tensor slots[2];
  Result halves[2];
  auto rank = [&](int r) {
    auto exchange = [&, r](Tensor sums) {
      slots[r] = sums.clone();
      sync.arrive_and_wait();
      sums.add_(slots[1 - r]);
      sync.arrive_and_wait();
    };
    halves[r] = run(x.slice(0, r * B, (r + 1) * B), target.slice(0, r * B, (r + 1) * B), exchange);
  };
  std::thread t0(rank, 0), t1(rank, 1);
  t0.join();
  t1.join();
  EXPECT_NEAR(((halves[0].loss + halves[1].loss) / 2).item<double>(), whole.loss.item<double>(), 1e-6);
  EXPECT_LT(max_diff((halves[0].grad_w + halves[1].grad_w) / 2, whole.grad_w), 1e-6);
  EXPECT_LT(max_diff((halves[0].grad_gamma + halves[1].grad_gamma) / 2, whole.grad_gamma), 1e-6);
  EXPECT_LT(max_diff((halves[0].grad_beta + halves[1].grad_beta) / 2, whole.grad_beta), 1e-6);
  EXPECT_LT(max_diff(halves[0].running_mean, whole.running_mean), 1e-6);
  EXPECT_LT(max_diff(halves[1].running_mean, whole.running_mean), 1e-6);
  // Without the exchange the halves would see different statistics: the test is not vacuous.
  const Result alone = run(x.slice(0, 0, B), target.slice(0, 0, B), {});
  EXPECT_GT(max_diff(alone.running_mean, whole.running_mean), 1e-4);
}

// Micro-batch mode (batch_norm.hpp, MicroBatches): statistics summed per micro-batch and
// combined in micro-batch order. Two simulated ranks holding two micro-batches each give the
// same bits as one process holding all four (outputs, input gradients, global gamma/beta
// gradients, running statistics), and both equal plain whole-batch BatchNorm to rounding.
TEST(SyncBatchNorm, MicroBatchesBitIdenticalOnAnySplit) {
  torch::manual_seed(6);
  Tensor x = torch::randn({8, 3, 4, 4});
  Tensor target = torch::randn({8, 3, 2, 2});
  struct Result {
    Tensor out, grad_x, grad_gamma, grad_beta, running_mean;
  };
  // Rows of `partial` ([k, 2C+1], this rank's micro-batches) after those of `before`, added in order.
  auto ordered_sum = [](const std::vector<Tensor>& parts) {
    const auto all = torch::cat(parts);
    Tensor total = torch::zeros({all.size(1)}, torch::kFloat64);
    for (int64_t j = 0; j < all.size(0); ++j) total += all[j];
    return total;
  };
  auto run = [&](const Tensor& xs, const Tensor& ts, std::vector<int64_t> rows, const cfma::nn::MicroBatchReduce& reduce) {
    SyncBatchNorm bn(3);
    {
      torch::NoGradGuard g;
      bn->weight.copy_(torch::tensor({1.5f, 0.7f, 1.1f}));
      bn->bias.copy_(torch::tensor({0.1f, -0.2f, 0.3f}));
    }
    Tensor input = xs.clone().requires_grad_();
    cfma::nn::MicroBatches micro{std::move(rows), reduce};
    Tensor h = bn->forward_fused(input, true, {2, 2}, &micro);
    (h - ts).square().sum().backward();
    return Result{h.detach(), input.grad(), bn->weight.grad(), bn->bias.grad(), bn->running_mean.clone()};
  };
  const Result single = run(x, target, {2, 2, 2, 2}, [&](const Tensor& p) { return ordered_sum({p}); });

  std::barrier<> sync(2);
  Tensor slots[2];
  Result halves[2];
  auto rank = [&](int r) {
    auto exchange = [&, r](const Tensor& partial) {
      slots[r] = partial.clone();
      sync.arrive_and_wait();
      const auto total = ordered_sum({slots[0], slots[1]});  // rank order = micro-batch order
      sync.arrive_and_wait();
      return total;
    };
    halves[r] = run(x.slice(0, 4 * r, 4 * r + 4), target.slice(0, 4 * r, 4 * r + 4), {2, 2}, exchange);
  };
  std::thread t0(rank, 0), t1(rank, 1);
  t0.join();
  t1.join();
  for (int r = 0; r < 2; ++r) {
    EXPECT_TRUE(torch::equal(halves[r].out, single.out.slice(0, 4 * r, 4 * r + 4))) << "rank " << r;
    EXPECT_TRUE(torch::equal(halves[r].grad_x, single.grad_x.slice(0, 4 * r, 4 * r + 4))) << "rank " << r;
    EXPECT_TRUE(torch::equal(halves[r].grad_gamma, single.grad_gamma)) << "rank " << r;  // global, not per rank
    EXPECT_TRUE(torch::equal(halves[r].grad_beta, single.grad_beta)) << "rank " << r;
    EXPECT_TRUE(torch::equal(halves[r].running_mean, single.running_mean)) << "rank " << r;
  }
  // Whole-batch BatchNorm (no micro-batches): the same values to rounding.
  SyncBatchNorm plain(3);
  {
    torch::NoGradGuard g;
    plain->weight.copy_(torch::tensor({1.5f, 0.7f, 1.1f}));
    plain->bias.copy_(torch::tensor({0.1f, -0.2f, 0.3f}));
  }
  Tensor input = x.clone().requires_grad_();
  Tensor h = plain->forward_fused(input, true, {2, 2});
  (h - target).square().sum().backward();
  EXPECT_LT(max_diff(h.detach(), single.out), 1e-5);
  EXPECT_LT(max_diff(input.grad(), single.grad_x), 1e-5);
  EXPECT_LT(max_diff(plain->weight.grad(), single.grad_gamma), 1e-4);
  EXPECT_LT(max_diff(plain->bias.grad(), single.grad_beta), 1e-4);
  EXPECT_GT(single.grad_gamma.abs().max().item<double>(), 1e-2);  // not vacuous
}
