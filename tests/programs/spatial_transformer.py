"""The Spatial Transformer Networks tutorial, shortened: a localisation network predicts an affine theta,
``affine_grid`` + ``grid_sample`` warp the input, a small CNN classifies it. Data: ten 8x8 patterns placed at
random positions in 28x28 noise (the tutorial's MNIST needs a download)."""

import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)
        self.localization = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=7), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
            nn.Conv2d(8, 10, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
        )
        self.fc_loc = nn.Sequential(nn.Linear(10 * 3 * 3, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))
        # start from the identity transformation
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 10 * 3 * 3)
        theta = self.fc_loc(xs).view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False)

    def forward(self, x):
        x = self.stn(x)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def batches(rng, patterns, n, size=64):
    for _ in range(n):
        labels = rng.integers(0, 10, size)
        images = rng.standard_normal((size, 1, 28, 28)).astype(np.float32) * 0.2
        rows, cols = rng.integers(8, 13, size), rng.integers(8, 13, size)
        for k in range(size):  # building the synthetic data set, not model code
            images[k, 0, rows[k]:rows[k] + 8, cols[k]:cols[k] + 8] += patterns[labels[k]]
        yield torch.from_numpy(images), torch.from_numpy(labels)


def main(steps=70):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    patterns = (rng.random((10, 8, 8)) < 0.5).astype(np.float32) * 2
    model = Net()
    optimizer = optim.Adam(model.parameters(), lr=5e-3)
    model.train()
    losses = []
    for data, target in batches(rng, patterns, steps):
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        data, _ = next(batches(rng, patterns, 1, 4))
        assert model.stn(data).shape == data.shape
    return losses
