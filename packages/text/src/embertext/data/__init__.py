"""Text data helpers (torchtext.data's API): tokenizers, n-grams, BLEU, small pipeline helpers, a
length-bucketing batch sampler and a padding collate."""

from .collate import PadCollate, TextBatch, pad_collate
from .functional import custom_replace, numericalize_tokens_from_iterator, simple_space_split, to_map_style_dataset
from .metrics import bleu_score
from .sampler import BucketBatchSampler
from .utils import get_tokenizer, interleave_keys, ngrams_iterator

__all__ = ["get_tokenizer", "ngrams_iterator", "interleave_keys", "bleu_score", "custom_replace",
           "simple_space_split", "numericalize_tokens_from_iterator", "to_map_style_dataset",
           "BucketBatchSampler", "PadCollate", "TextBatch", "pad_collate"]
