"""Text data helpers (torchtext.data's API): tokenizers, n-grams, length-bucketing sampler, padding collate."""

from .collate import PadCollate, TextBatch, pad_collate
from .sampler import BucketBatchSampler
from .utils import get_tokenizer, interleave_keys, ngrams_iterator

__all__ = ["get_tokenizer", "ngrams_iterator", "interleave_keys", "BucketBatchSampler", "PadCollate",
           "TextBatch", "pad_collate"]
