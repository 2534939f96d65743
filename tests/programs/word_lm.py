"""The word-level language model example: Embedding + LSTM + tied decoder, truncated BPTT with
clip_grad_norm_, the whole model saved with torch.save(model) and reloaded with weights_only=False."""

import math

import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F


class RNNModel(nn.Module):
    def __init__(self, ntoken, ninp, nhid, nlayers, dropout=0.2, tie_weights=True):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            self.decoder.weight = self.encoder.weight
        self.nhid, self.nlayers = nhid, nlayers
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output).view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    return data.narrow(0, 0, nbatch * bsz).view(bsz, -1).t().contiguous()


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].reshape(-1)


def main(path, epochs=3, bptt=8, lr=20.0):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    ntokens = 20
    corpus = np.tile(rng.permutation(ntokens)[:7], 150)  # one "sentence" of 7 words, repeated
    train_data = batchify(torch.tensor(corpus, dtype=torch.long), 10)
    model = RNNModel(ntokens, 16, 16, 2)
    criterion = nn.NLLLoss()
    losses = []
    for _epoch in range(epochs):
        model.train()
        hidden = model.init_hidden(10)
        for i in range(0, train_data.size(0) - 1, bptt):
            data, targets = get_batch(train_data, i, bptt)
            model.zero_grad()
            hidden = repackage_hidden(hidden)
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
            losses.append(loss.item())
    with open(path, "wb") as f:
        torch.save(model, f)
    with open(path, "rb") as f:
        reloaded = torch.load(f, weights_only=False)
    model.eval()
    reloaded.eval()
    data, targets = get_batch(train_data, 0, bptt)
    with torch.no_grad():
        a, _ = model(data, model.init_hidden(10))
        b, _ = reloaded(data, reloaded.init_hidden(10))
    assert torch.equal(a, b) and reloaded.decoder.weight is reloaded.encoder.weight
    ppl = math.exp(F.nll_loss(b, targets).item())
    return losses, ppl
