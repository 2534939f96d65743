"""What the trainer and ``embertext.predict`` share: turning text into padded id batches, building a
classifier from its saved config, and the checkpoint's text-pipeline state (plain data, no pickle)."""

from __future__ import annotations

import json

import numpy as np

import ember

from . import models
from .data.utils import get_tokenizer
from .vocab import Vocab, build_vocab_from_iterator

PAD, UNK = "<pad>", "<unk>"
MODELS = ("lstm", "gru", "cnn", "transformer")
TOKENIZERS = ("basic_english", "bpe", "wordpiece")


def build_model(name: str, vocab_size: int, num_classes: int, config: dict):
    """A classifier from ``embertext.models`` by trainer name; ``config`` holds its keyword arguments."""
    if name in ("lstm", "gru"):
        return models.RNNClassifier(vocab_size, num_classes, rnn_type=name, **config)
    if name == "cnn":
        return models.CNNClassifier(vocab_size, num_classes, **config)
    if name == "transformer":
        return models.TransformerClassifier(vocab_size, num_classes, **config)
    raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")


def _subword_class(name: str):
    from .tokenizers import BPETokenizer, WordPieceTokenizer

    return {"bpe": BPETokenizer, "wordpiece": WordPieceTokenizer}[name]


# the subword tokenizers' own conventions; listed first, so the padding token gets id 0
_SUBWORD_SPECIALS = {"bpe": ["<pad>", "<unk>"], "wordpiece": ["[PAD]", "[UNK]"]}


class TextEncoder:
    """Sentence -> token ids: ``basic_english`` + a :class:`~embertext.vocab.Vocab`, or a trained
    subword tokenizer. Id 0 is padding; unknown words map to ``<unk>``; sentences are cut to ``max_length``."""

    def __init__(self, kind: str, max_length: int, vocab: Vocab | None = None, subword=None) -> None:
        self.kind, self.max_length, self.vocab, self.subword = kind, max_length, vocab, subword
        self._tokenize = get_tokenizer("basic_english") if kind == "basic_english" else None

    @classmethod
    def fit(cls, kind: str, texts, max_length: int, min_freq: int = 1, vocab_size: int = 8000) -> TextEncoder:
        """Build the vocabulary (or train the subword tokenizer) on ``texts``."""
        if kind == "basic_english":
            tok = get_tokenizer("basic_english")
            vocab = build_vocab_from_iterator((tok(t) for t in texts), min_freq=min_freq, specials=[PAD, UNK])
            vocab.set_default_index(vocab[UNK])
            return cls(kind, max_length, vocab=vocab)
        if kind not in TOKENIZERS:
            raise ValueError(f"unknown tokenizer {kind!r}; choose from {', '.join(TOKENIZERS)}")
        subword = _subword_class(kind)()
        subword.train(iter(texts), vocab_size=vocab_size, min_frequency=max(min_freq, 2),
                      special_tokens=_SUBWORD_SPECIALS[kind])
        return cls(kind, max_length, subword=subword)

    def __len__(self) -> int:
        return len(self.vocab) if self.vocab is not None else self.subword.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        if not isinstance(text, str):
            raise TypeError(f"expected a sentence (str), got {type(text).__name__}")
        if self.vocab is not None:
            ids = self.vocab(self._tokenize(text))
        else:
            ids = list(self.subword.encode(text, add_special_tokens=False).ids)
        return ids[: self.max_length]

    def state(self) -> dict:
        """Plain data for a checkpoint."""
        if self.vocab is not None:
            return {"kind": self.kind, "max_length": self.max_length, "vocab": self.vocab.get_extra_state()}
        return {"kind": self.kind, "max_length": self.max_length, "tokenizer_json": json.dumps(self.subword.to_json())}

    @classmethod
    def from_state(cls, state: dict) -> TextEncoder:
        kind = state["kind"]
        if kind == "basic_english":
            vocab = Vocab()
            vocab.set_extra_state(state["vocab"])
            return cls(kind, int(state["max_length"]), vocab=vocab)
        from .tokenizers.hf_json import from_json

        subword = from_json(json.loads(state["tokenizer_json"]), "the checkpoint's tokenizer", expect=_subword_class(kind))
        return cls(kind, int(state["max_length"]), subword=subword)


def collate(batch):
    """``[(ids, label), ...]`` -> (ids (B, T) int64 padded with 0, lengths (B,) int64, labels (B,) int64).

    An empty sentence becomes one padding token (length 1), so every model sees at least one step."""
    sizes = np.array([len(ids) for ids, _ in batch], dtype=np.int64)
    lengths = np.maximum(sizes, 1)
    padded = np.zeros((len(batch), int(lengths.max())), dtype=np.int64)
    real = np.arange(padded.shape[1]) < sizes[:, None]
    if real.any():
        padded[real] = np.concatenate([np.asarray(ids, dtype=np.int64) for ids, _ in batch])
    labels = np.array([label for _, label in batch], dtype=np.int64)
    return ember.from_numpy(padded), ember.from_numpy(lengths), ember.from_numpy(labels)
