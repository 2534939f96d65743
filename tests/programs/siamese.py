"""A siamese network: one embedding tower on both inputs, their product to a same/different logit (BCE)."""

import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim


class SiameseNetwork(nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.tower = nn.Sequential(nn.Linear(d, 32), nn.ReLU(inplace=True), nn.Linear(32, 16))
        self.fc = nn.Sequential(nn.Linear(16, 16), nn.ReLU(inplace=True), nn.Linear(16, 1))
        self.sigmoid = nn.Sigmoid()

    def forward_once(self, x):
        return self.tower(x)

    def forward(self, input1, input2):
        output = self.forward_once(input1) * self.forward_once(input2)
        return self.sigmoid(self.fc(output))


def main(steps=60):
    torch.manual_seed(0)
    rng = np.random.default_rng(3)
    centers = rng.standard_normal((5, 16)).astype(np.float32) * 2
    criterion = nn.BCELoss()
    model = SiameseNetwork()
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.7)
    losses = []
    for _ in range(steps):
        a = rng.integers(0, 5, 64)
        same = rng.random(64) < 0.5
        b = np.where(same, a, (a + rng.integers(1, 5, 64)) % 5)
        x1 = torch.from_numpy(centers[a] + rng.standard_normal((64, 16)).astype(np.float32) * 0.3)
        x2 = torch.from_numpy(centers[b] + rng.standard_normal((64, 16)).astype(np.float32) * 0.3)
        target = torch.from_numpy(same.astype(np.float32)).unsqueeze(1)
        optimizer.zero_grad()
        loss = criterion(model(x1, x2), target)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    d = F.pairwise_distance(model.forward_once(x1), model.forward_once(x2))
    assert d.shape == (64,)
    return losses
