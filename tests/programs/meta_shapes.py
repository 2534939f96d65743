"""Shape reasoning on the meta device, then materializing the model: build a large model without memory,
count parameters and trace activation shapes, move it to the CPU with to_empty, and load real weights with
load_state_dict(assign=True)."""

import ember as torch
import ember.nn as nn


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        return x + self.ff(self.norm(x))


class Model(nn.Module):
    def __init__(self, vocab, d, n):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList([Block(d) for _ in range(n)])
        self.head = nn.Linear(d, vocab)

    def forward(self, idx):
        x = self.embed(idx)
        for b in self.blocks:
            x = b(x)
        return self.head(x)


def main():
    with torch.device("meta"):
        big = Model(vocab=50_000, d=2048, n=24)  # ~1.0e9 parameters: 4 GB if it had data
    n_params = sum(p.numel() for p in big.parameters())
    out = big(torch.empty(2, 16, dtype=torch.long, device="meta"))
    shapes = {"params": n_params, "logits": tuple(out.shape), "device": str(out.device)}
    # a small one: built on meta, materialized, loaded from a real model, then trained
    torch.manual_seed(0)
    real = Model(vocab=20, d=16, n=2)
    with torch.device("meta"):
        model = Model(vocab=20, d=16, n=2)
    model.load_state_dict(real.state_dict(), assign=True)
    idx = torch.randint(0, 20, (8, 6))
    assert torch.equal(model(idx), real(idx))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(20):
        logits = model(idx[:, :-1])
        loss = nn.functional.cross_entropy(logits.reshape(-1, 20), idx[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return shapes, losses
