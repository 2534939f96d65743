"""The transformer language-model tutorial: positional encoding, TransformerEncoder with a causal mask."""

import math

import numpy as np

import ember as torch
import ember.nn as nn


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=64):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return self.dropout(x + self.pe[:x.size(0)])


class TransformerModel(nn.Module):
    def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, dropout=0.1):
        super().__init__()
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
        self.transformer_encoder = nn.TransformerEncoder(layer, nlayers, enable_nested_tensor=False)
        self.embedding = nn.Embedding(ntoken, d_model)
        self.d_model = d_model
        self.linear = nn.Linear(d_model, ntoken)

    def forward(self, src, src_mask=None):
        src = self.embedding(src) * math.sqrt(self.d_model)
        src = self.pos_encoder(src)
        if src_mask is None:
            src_mask = nn.Transformer.generate_square_subsequent_mask(len(src))
        return self.linear(self.transformer_encoder(src, src_mask))


def main(steps=40, bptt=10):
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    ntokens = 16
    corpus = torch.tensor(np.tile(rng.permutation(ntokens), 40), dtype=torch.long)  # a cyclic "text"
    data = corpus[: (len(corpus) // 8) * 8].view(8, -1).t().contiguous()
    model = TransformerModel(ntokens, 32, 2, 64, 2, dropout=0.0)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)
    losses = []
    model.train()
    for step in range(steps):
        i = (step * bptt) % (data.size(0) - bptt - 1)
        src, tgt = data[i:i + bptt], data[i + 1:i + 1 + bptt].reshape(-1)
        output = model(src)
        loss = criterion(output.view(-1, ntokens), tgt)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        losses.append(loss.item())
        if step % 10 == 9:
            scheduler.step()
    return losses
