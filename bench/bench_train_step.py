#!/usr/bin/python3
"""PyTorch-Python peer for bench_train_step: the original Regular and Deformable nets.

The nets are the reference notebooks' classes (reference-spec section 3): Regular = CNN3 and
Deformable with 4uiiurz1's gather-based DCNv1 (the code the paper used). One training step =
forward + cross-entropy + backward + SGD(lr 0.005, momentum 0.9), batch 64, one thread.

Usage: /usr/bin/python3 bench/bench_train_step.py [steps] [warmup] [batch]
Prints one line per net: "<arch> <ms per step>" (the C++ bench parses these lines).
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class DeformConv2d(nn.Module):
    """4uiiurz1/pytorch-deform-conv-v2, modulation off (as used by the paper)."""

    def __init__(self, inc, outc, kernel_size=3, padding=1, stride=1, bias=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.padding = padding
        self.stride = stride
        self.zero_padding = nn.ZeroPad2d(padding)
        self.conv = nn.Conv2d(inc, outc, kernel_size=kernel_size, stride=kernel_size, bias=bias)
        self.p_conv = nn.Conv2d(inc, 2 * kernel_size * kernel_size, kernel_size=3, padding=1,
                                stride=stride)
        nn.init.constant_(self.p_conv.weight, 0)

    def forward(self, x):
        offset = self.p_conv(x)
        ks = self.kernel_size
        N = offset.size(1) // 2
        if self.padding:
            x = self.zero_padding(x)
        p = self._get_p(offset, offset.dtype)
        p = p.contiguous().permute(0, 2, 3, 1)
        q_lt = p.detach().floor()
        q_rb = q_lt + 1
        q_lt = torch.cat([torch.clamp(q_lt[..., :N], 0, x.size(2) - 1),
                          torch.clamp(q_lt[..., N:], 0, x.size(3) - 1)], dim=-1).long()
        q_rb = torch.cat([torch.clamp(q_rb[..., :N], 0, x.size(2) - 1),
                          torch.clamp(q_rb[..., N:], 0, x.size(3) - 1)], dim=-1).long()
        q_lb = torch.cat([q_lt[..., :N], q_rb[..., N:]], dim=-1)
        q_rt = torch.cat([q_rb[..., :N], q_lt[..., N:]], dim=-1)
        p = torch.cat([torch.clamp(p[..., :N], 0, x.size(2) - 1),
                       torch.clamp(p[..., N:], 0, x.size(3) - 1)], dim=-1)
        g_lt = (1 + (q_lt[..., :N].type_as(p) - p[..., :N])) * (1 + (q_lt[..., N:].type_as(p) - p[..., N:]))
        g_rb = (1 - (q_rb[..., :N].type_as(p) - p[..., :N])) * (1 - (q_rb[..., N:].type_as(p) - p[..., N:]))
        g_lb = (1 + (q_lb[..., :N].type_as(p) - p[..., :N])) * (1 - (q_lb[..., N:].type_as(p) - p[..., N:]))
        g_rt = (1 - (q_rt[..., :N].type_as(p) - p[..., :N])) * (1 + (q_rt[..., N:].type_as(p) - p[..., N:]))
        x_q_lt = self._get_x_q(x, q_lt, N)
        x_q_rb = self._get_x_q(x, q_rb, N)
        x_q_lb = self._get_x_q(x, q_lb, N)
        x_q_rt = self._get_x_q(x, q_rt, N)
        x_offset = (g_lt.unsqueeze(dim=1) * x_q_lt + g_rb.unsqueeze(dim=1) * x_q_rb +
                    g_lb.unsqueeze(dim=1) * x_q_lb + g_rt.unsqueeze(dim=1) * x_q_rt)
        x_offset = self._reshape_x_offset(x_offset, ks)
        return self.conv(x_offset)

    def _get_p_n(self, N, dtype):
        r = torch.arange(-(self.kernel_size - 1) // 2, (self.kernel_size - 1) // 2 + 1)
        p_n_x, p_n_y = torch.meshgrid(r, r, indexing="ij")
        p_n = torch.cat([torch.flatten(p_n_x), torch.flatten(p_n_y)], 0)
        return p_n.view(1, 2 * N, 1, 1).type(dtype)

    def _get_p_0(self, h, w, N, dtype):
        p_0_x, p_0_y = torch.meshgrid(torch.arange(1, h * self.stride + 1, self.stride),
                                      torch.arange(1, w * self.stride + 1, self.stride),
                                      indexing="ij")
        p_0_x = torch.flatten(p_0_x).view(1, 1, h, w).repeat(1, N, 1, 1)
        p_0_y = torch.flatten(p_0_y).view(1, 1, h, w).repeat(1, N, 1, 1)
        return torch.cat([p_0_x, p_0_y], 1).type(dtype)

    def _get_p(self, offset, dtype):
        N, h, w = offset.size(1) // 2, offset.size(2), offset.size(3)
        return self._get_p_0(h, w, N, dtype) + self._get_p_n(N, dtype) + offset

    def _get_x_q(self, x, q, N):
        b, h, w, _ = q.size()
        padded_w = x.size(3)
        c = x.size(1)
        x = x.contiguous().view(b, c, -1)
        index = q[..., :N] * padded_w + q[..., N:]
        index = index.contiguous().unsqueeze(dim=1).expand(-1, c, -1, -1, -1).contiguous().view(b, c, -1)
        return x.gather(dim=-1, index=index).contiguous().view(b, c, h, w, N)

    @staticmethod
    def _reshape_x_offset(x_offset, ks):
        b, c, h, w, N = x_offset.size()
        x_offset = torch.cat([x_offset[..., s:s + ks].contiguous().view(b, c, h, w * ks)
                              for s in range(0, N, ks)], dim=-1)
        return x_offset.contiguous().view(b, c, h * ks, w * ks)


class Net(nn.Module):
    """Regular (CNN3) or Deformable, logits head (the benchmark times the step, not the head)."""

    def __init__(self, deformable, num_outputs=8):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, 5)
        self.bn1 = nn.BatchNorm2d(10)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(10, 20, 5, stride=3, padding=3)
        self.bn2 = nn.BatchNorm2d(20)
        self.pool2 = nn.MaxPool2d(2)
        if deformable:
            self.conv3 = DeformConv2d(20, 30, kernel_size=5, stride=2, padding=0)
            flat = 30 * 6 * 6
        else:
            self.conv3 = nn.Conv2d(20, 30, 5, stride=2)
            flat = 30 * 4 * 4
        self.bn3 = nn.BatchNorm2d(30)
        self.fc1 = nn.Linear(flat, 120)
        self.fc2 = nn.Linear(120, num_outputs)

    def forward(self, x):
        x = self.pool1(F.relu(self.bn1(self.conv1(x))))
        x = self.pool2(F.relu(self.bn2(self.conv2(x))))
        x = F.relu(self.bn3(self.conv3(x)))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


def time_step(deformable, steps, warmup, batch):
    torch.manual_seed(1)
    net = Net(deformable)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.005, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(batch, 1, 128, 128)
    y = torch.randint(0, 8, (batch,))
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        t1 = time.perf_counter()
        if i >= warmup:
            times.append(t1 - t0)
    times.sort()
    return 1000.0 * times[len(times) // 2]  # median: robust to a noisy shared machine


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    torch.set_num_threads(1)
    for name, deformable in (("regular", False), ("deformable", True)):
        print(f"{name} {time_step(deformable, steps, warmup, batch):.2f}", flush=True)


if __name__ == "__main__":
    main()
