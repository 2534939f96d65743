"""The MNIST-Hogwild example's structure: one model in shared memory, trained by spawned worker processes."""

import ember as torch
import ember.multiprocessing as mp
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 32)
        self.fc2 = nn.Linear(32, 3)

    def forward(self, x):
        return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)


def make_data(seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(256, 10, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    return x, y


def train(rank, model, steps):
    torch.manual_seed(1 + rank)
    x, y = make_data(rank)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    for step in range(steps):
        idx = torch.randint(0, 256, (32,))
        optimizer.zero_grad()
        loss = F.nll_loss(model(x[idx]), y[idx])
        loss.backward()
        optimizer.step()


def evaluate(model):
    x, y = make_data(99)
    with torch.no_grad():
        return F.nll_loss(model(x), y).item()


def main(num_processes=2, steps=40):
    torch.manual_seed(0)
    model = Net()
    model.share_memory()  # gradients are allocated lazily, so they are not shared here
    before = evaluate(model)
    ctx = mp.get_context("spawn")
    processes = []
    for rank in range(num_processes):
        p = ctx.Process(target=train, args=(rank, model, steps))
        p.start()
        processes.append(p)
    for p in processes:
        p.join()
        assert p.exitcode == 0
    return [before, evaluate(model)]
