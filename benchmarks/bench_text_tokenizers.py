"""Tokenizer throughput (sentences/s) on SST-2 training sentences, and what length bucketing saves an LSTM.

``python -m benchmarks.bench_text_tokenizers [--sentences N] [--bucketing]``

Reads ``../shared/datasets/SST2/train.tsv`` (67,349 sentences) when present, else makes the same number of
synthetic sentences (Zipf-distributed words, SST-2-like lengths). For ``basic_english``, byte-level BPE
and WordPiece (both trained here on the same sentences, 8,000 tokens) it prints the training time, the
first pass over all sentences (cold word cache) and a second pass (warm). ``--bucketing`` times one pass
of a bidirectional LSTM (packed sequences, forward + backward) over the same batches of 64 drawn at random
vs. by :class:`embertext.data.BucketBatchSampler`. The ``CASES`` below (5,000 sentences per call, Ember
only: PyTorch has no tokenizer to compare with) run under ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    for pkg in ("core", "text"):
        sys.path.insert(0, str(ROOT / "packages" / pkg / "src"))
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import Case  # noqa: E402

SST2 = pathlib.Path(os.environ.get("EMBER_SHARED_DATASETS", ROOT.parent / "shared" / "datasets")) / "SST2"


def sentences(n: int | None = None) -> tuple[list[str], str]:
    """SST-2 training sentences (or synthetic ones) and where they came from."""
    path = SST2 / "train.tsv"
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()[1:]
        out = [line.rsplit("\t", 1)[0] for line in lines]
        return (out[:n] if n else out), str(path)
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(15000)])
    n = n or 67349
    lengths = np.clip(rng.gamma(2.0, 5.0, size=n).astype(int), 1, 55)
    ranks = np.minimum(rng.zipf(1.2, size=int(lengths.sum())), 15000) - 1
    toks = words[ranks]
    cuts = np.cumsum(lengths)[:-1]
    return [" ".join(s) for s in np.split(toks, cuts)], "synthetic (SST2/train.tsv not found)"


def _tokenizers(lines, vocab_size=8000):
    from embertext.data import get_tokenizer
    from embertext.tokenizers import BPETokenizer, WordPieceTokenizer

    basic = get_tokenizer("basic_english")
    out, train_s = {"basic_english": lambda batch: [basic(t) for t in batch]}, {}
    for name, cls in (("BPE", BPETokenizer), ("WordPiece", WordPieceTokenizer)):
        t0 = time.perf_counter()
        tok = cls().train(lines, vocab_size=vocab_size, min_frequency=2)
        train_s[name] = time.perf_counter() - t0
        out[name] = tok
    return out, train_s


def _encode(tok, batch):
    return tok(batch) if callable(tok) and not hasattr(tok, "encode_batch") else tok.encode_batch(batch)


# -- harness cases ---------------------------------------------------------------------------------
_STATE = {}


def _make(name):
    def make(lib, device):
        if "tokenizers" not in _STATE:
            lines, _ = sentences(5000)
            _STATE["lines"] = lines
            _STATE["tokenizers"], _ = _tokenizers(lines, vocab_size=4000)
        tok, lines = _STATE["tokenizers"][name], _STATE["lines"]
        return lambda: _encode(tok, lines)
    return make


CASES = [
    Case(f"{name} encode 5000 sentences", "text", _make(name), repeat=5, torch_ok=False,
         note="sentences/s = 5e6 / ms")
    for name in ("basic_english", "BPE", "WordPiece")
]


# -- standalone run --------------------------------------------------------------------------------
def run_tokenizers(lines):
    toks, train_s = _tokenizers(lines)
    print(f"{'tokenizer':<14} {'train s':>8} {'1st pass s':>10} {'sent/s':>9} {'2nd pass s':>10} {'sent/s':>9}")
    for name, tok in toks.items():
        if hasattr(tok, "_rebuild"):
            tok._rebuild()  # empty the word cache: the first pass is cold
        t0 = time.perf_counter()
        _encode(tok, lines)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        _encode(tok, lines)
        warm = time.perf_counter() - t0
        tr = f"{train_s[name]:8.2f}" if name in train_s else f"{'-':>8}"
        print(f"{name:<14} {tr} {cold:10.2f} {len(lines) / cold:9.0f} {warm:10.2f} {len(lines) / warm:9.0f}")


def run_bucketing(lines, n=2560, batch_size=64):
    import ember
    import ember.nn as nn
    from ember.nn.utils.rnn import pack_padded_sequence
    from ember.utils.data import BatchSampler, RandomSampler
    from embertext.data import BucketBatchSampler, get_tokenizer, pad_collate
    from embertext.vocab import build_vocab_from_iterator

    tok = get_tokenizer("basic_english")
    tokens = [tok(t) or ["<unk>"] for t in lines[:n]]
    voc = build_vocab_from_iterator(tokens, specials=["<pad>", "<unk>"])
    voc.set_default_index(1)
    ids = [voc(t) for t in tokens]
    lengths = [len(t) for t in ids]
    labels = [i % 2 for i in range(len(ids))]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(len(voc), 64, padding_idx=0)
            self.rnn = nn.LSTM(64, 64, batch_first=True, bidirectional=True)
            self.fc = nn.Linear(128, 2)

        def forward(self, x, lens):
            packed = pack_padded_sequence(self.emb(x), lens, batch_first=True, enforce_sorted=False)
            _, (h, _) = self.rnn(packed)
            return self.fc(ember.cat([h[0], h[1]], 1))

    ember.manual_seed(0)
    net = Net()
    loss_fn = nn.CrossEntropyLoss()

    def epoch(batches):
        real = padded = 0
        t0 = time.perf_counter()
        for b in batches:
            batch = pad_collate([(ids[i], labels[i]) for i in b])
            real += int(batch.lengths.sum())
            padded += batch.ids.numel()
            loss = loss_fn(net(batch.ids, batch.lengths), batch.labels)
            net.zero_grad()
            loss.backward()
        return time.perf_counter() - t0, real / padded

    ember.manual_seed(1)
    random_batches = list(BatchSampler(RandomSampler(range(len(ids))), batch_size, False))
    bucket_batches = list(BucketBatchSampler(lengths, batch_size))
    epoch(random_batches[:2])  # warm-up
    t_rand, fill_rand = epoch(random_batches)
    t_buck, fill_buck = epoch(bucket_batches)
    print(f"BiLSTM 64x2, {len(ids)} sentences, batches of {batch_size}, forward+backward, one pass:")
    print(f"  random batches   {t_rand:7.2f} s   real tokens / padded tokens = {fill_rand:.2f}")
    print(f"  bucketed batches {t_buck:7.2f} s   real tokens / padded tokens = {fill_buck:.2f}"
          f"   speed-up {t_rand / t_buck:.2f}x")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sentences", type=int, default=None, help="use only the first N sentences")
    p.add_argument("--bucketing", action="store_true", help="also time an LSTM pass, random vs bucketed batches")
    args = p.parse_args(argv)
    lines, source = sentences(args.sentences)
    print(f"{len(lines)} sentences from {source}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    run_tokenizers(lines)
    if args.bucketing:
        run_bucketing(lines)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
