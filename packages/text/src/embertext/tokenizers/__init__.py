"""Trainable subword tokenizers (byte-level BPE, WordPiece) that read and write Hugging Face's
``tokenizer.json``, with no dependency beyond the standard library."""

from ._encoding import Encoding
from ._pretokenize import BertNormalizer
from .bpe import BPETokenizer
from .hf_json import load
from .wordpiece import WordPieceTokenizer

__all__ = ["Encoding", "BPETokenizer", "WordPieceTokenizer", "BertNormalizer", "load"]
