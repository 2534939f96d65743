"""The VAE example (reparameterization trick, BCE + KL loss) on small synthetic binary images."""

import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim


class VAE(nn.Module):
    def __init__(self, d=64, h=32, z=4):
        super().__init__()
        self.fc1 = nn.Linear(d, h)
        self.fc21 = nn.Linear(h, z)
        self.fc22 = nn.Linear(h, z)
        self.fc3 = nn.Linear(z, h)
        self.fc4 = nn.Linear(h, d)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 64))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def main(steps=60):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    protos = rng.random((4, 64)) < 0.5  # four prototype patterns, with 5% of the pixels flipped
    data = np.logical_xor(protos[rng.integers(0, 4, 512)], rng.random((512, 64)) < 0.05).astype(np.float32)
    data = torch.from_numpy(data).view(-1, 1, 8, 8)
    model = VAE()
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for step in range(steps):
        batch = data[(step * 64) % 512:(step * 64) % 512 + 64]
        optimizer.zero_grad()
        recon, mu, logvar = model(batch)
        loss = loss_function(recon, batch, mu, logvar)
        loss.backward()
        optimizer.step()
        losses.append(loss.item() / len(batch))
    with torch.no_grad():
        sample = model.decode(torch.randn(8, 4))
    assert sample.shape == (8, 64)
    return losses
