"""Read and write the Hugging Face ``tokenizer.json`` format for BPE and WordPiece models."""

from __future__ import annotations

import json
import os

from ._base import SubwordTokenizer
from ._pretokenize import PRE_TOKENIZERS
from .bpe import BPETokenizer
from .wordpiece import WordPieceTokenizer

__all__ = ["load", "from_json", "to_json"]


def _bad(where, msg):
    return ValueError(f"{where}: {msg}")


def load(path, expect=None) -> SubwordTokenizer:
    r"""Read a Hugging Face ``tokenizer.json``: a :class:`BPETokenizer` (byte-level pre-tokenizer) or a
    :class:`WordPieceTokenizer` (BERT normalizer and pre-tokenizer), whichever model the file holds.

    A truncated or malformed file, a file of another kind (a ``vocab.txt``, a ``vocab.json``) or a model
    or pipeline part embertext does not implement raises a ``ValueError`` / ``NotImplementedError`` naming
    the file and what is wrong.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _bad(path, f"not a tokenizer.json: not UTF-8 text (byte {e.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        hint = ""
        if not text.lstrip().startswith("{"):
            hint = " (it does not start with '{': a WordPiece vocab.txt? use WordPieceTokenizer.from_vocab_file)"
        elif e.pos >= len(text.rstrip()) - 1:
            hint = " (the file ends early: truncated?)"
        raise _bad(path, f"not a valid tokenizer.json: {e.msg} at line {e.lineno} column {e.colno}{hint}") from None
    return from_json(data, path, expect)


def from_json(data, where="tokenizer.json", expect=None) -> SubwordTokenizer:
    r"""Build a tokenizer from the parsed JSON of a ``tokenizer.json``."""
    if not isinstance(data, dict):
        raise _bad(where, f"not a tokenizer.json: the top level is a JSON {type(data).__name__}, not an object")
    if "model" not in data:
        if data and all(isinstance(v, int) for v in data.values()):
            raise _bad(where, "this is a vocab.json (token -> id), not a tokenizer.json: use "
                              "BPETokenizer.from_files(vocab_json, merges_txt)")
        raise _bad(where, "not a tokenizer.json: it has no 'model' entry")
    model = data["model"]
    if not isinstance(model, dict):
        raise _bad(where, "'model' must be a JSON object")
    kind = model.get("type")
    if kind is None:  # files written by old versions leave the type out
        kind = "BPE" if "merges" in model else "WordPiece" if "max_input_chars_per_word" in model else None
    classes = {"BPE": BPETokenizer, "WordPiece": WordPieceTokenizer}
    if kind not in classes:
        raise NotImplementedError(f"{where}: model type {kind!r} is not supported (embertext reads BPE and "
                                  "WordPiece models)")
    cls = classes[kind]
    if expect is not None and expect is not SubwordTokenizer and not issubclass(cls, expect):
        raise _bad(where, f"holds a {kind} model, not a {expect._MODEL_TYPE} one: use {cls.__name__}.from_file "
                          "or embertext.tokenizers.load")
    vocab = model.get("vocab")
    if not isinstance(vocab, dict) or not all(isinstance(i, int) for i in vocab.values()):
        raise _bad(where, "model.vocab must be a JSON object mapping token -> integer id")
    tok = _build_bpe(data, model, vocab, where) if kind == "BPE" else _build_wordpiece(data, model, vocab, where)
    _read_common(tok, data, where)
    return tok


def _component(data, key):
    comp = data.get(key)
    if comp is not None and comp.get("type") == "Sequence":
        parts = comp.get("pretokenizers") or comp.get("processors") or comp.get("normalizers") or []
        if len(parts) == 1:
            return parts[0]
    return comp


def _unsupported(where, key, comp):
    return NotImplementedError(f"{where}: {key} {comp.get('type')!r} is not supported here")


def _build_bpe(data, model, vocab, where):
    for k in ("continuing_subword_prefix", "end_of_word_suffix"):
        if model.get(k):
            raise NotImplementedError(f"{where}: BPE models with {k} are not supported (only byte-level BPE)")
    if model.get("byte_fallback"):
        raise NotImplementedError(f"{where}: BPE with byte_fallback is not supported (only byte-level BPE)")
    merges = model.get("merges")
    if not isinstance(merges, list):
        raise _bad(where, "model.merges must be a list")
    pre = _component(data, "pre_tokenizer")
    if pre is None or pre.get("type") != "ByteLevel":
        raise NotImplementedError(f"{where}: BPE is read only with a ByteLevel pre_tokenizer, this file has "
                                  f"{None if pre is None else pre.get('type')!r}")
    if data.get("normalizer") is not None:
        raise _unsupported(where, "normalizer", data["normalizer"])
    try:
        tok = BPETokenizer(vocab, merges, add_prefix_space=bool(pre.get("add_prefix_space", False)),
                           unk_token=model.get("unk_token"), ignore_merges=bool(model.get("ignore_merges", False)))
    except ValueError as e:
        raise _bad(where, str(e)) from None
    tok.use_regex = bool(pre.get("use_regex", True))
    post = data.get("post_processor")
    tok.trim_offsets = False
    for p in (post.get("processors", [post]) if post and post.get("type") == "Sequence" else [post]):
        if p is not None and p.get("type") in ("ByteLevel", "RobertaProcessing"):
            tok.trim_offsets = bool(p.get("trim_offsets", False))
    return tok


def _build_wordpiece(data, model, vocab, where):
    norm = _component(data, "normalizer")
    if norm is None:
        settings = {"lowercase": False, "clean_text": False, "handle_chinese_chars": False, "strip_accents": False}
    elif norm.get("type") == "BertNormalizer":
        settings = {k: norm.get(k, d) for k, d in (("lowercase", True), ("clean_text", True),
                                                   ("handle_chinese_chars", True), ("strip_accents", None))}
    else:
        raise _unsupported(where, "normalizer", norm)
    unk = model.get("unk_token", "[UNK]")
    tok = WordPieceTokenizer(vocab, unk_token=unk, continuing_subword_prefix=model.get("continuing_subword_prefix",
                                                                                       "##"),
                             max_input_chars_per_word=model.get("max_input_chars_per_word", 100), **settings)
    pre = _component(data, "pre_tokenizer")
    if pre is None or pre.get("type") not in PRE_TOKENIZERS:
        raise NotImplementedError(f"{where}: WordPiece is read with a BertPreTokenizer, Whitespace or "
                                  f"WhitespaceSplit pre_tokenizer, this file has "
                                  f"{None if pre is None else pre.get('type')!r}")
    tok.set_pre_tokenizer(pre["type"])
    return tok


def _template(post, where):
    """(prefix tokens, suffix tokens) of a single-sentence post-processor."""
    if post is None:
        return [], []
    kind = post.get("type")
    if kind == "Sequence":
        pre, suf = [], []
        for p in post.get("processors", []):
            a, b = _template(p, where)
            pre, suf = pre + a, b + suf
        return pre, suf
    if kind in ("BertProcessing", "RobertaProcessing"):
        try:
            return [post["cls"][0]], [post["sep"][0]]
        except (KeyError, IndexError, TypeError):
            raise _bad(where, f"post_processor {kind} needs 'cls' and 'sep' as [token, id]") from None
    if kind == "ByteLevel":
        return [], []
    if kind == "TemplateProcessing":
        pre, suf, seen = [], [], False
        specials = post.get("special_tokens", {})
        for item in post.get("single", []):
            if "Sequence" in item:
                seen = True
            elif "SpecialToken" in item:
                name = item["SpecialToken"]["id"]
                toks = specials.get(name, {}).get("tokens", [name])
                (suf if seen else pre).extend(toks)
        return pre, suf
    raise _unsupported(where, "post_processor", post)


def _read_common(tok, data, where):
    added = data.get("added_tokens") or []
    clean = []
    for i, a in enumerate(added):
        if not isinstance(a, dict) or not isinstance(a.get("content"), str) or not isinstance(a.get("id"), int):
            raise _bad(where, f"added_tokens[{i}] must be an object with 'id' (int) and 'content' (str)")
        clean.append({"id": a["id"], "content": a["content"], "single_word": a.get("single_word", False),
                      "lstrip": a.get("lstrip", False), "rstrip": a.get("rstrip", False),
                      "normalized": a.get("normalized", False), "special": a.get("special", True)})
    tok._added = clean
    post = data.get("post_processor")
    if tok._MODEL_TYPE == "WordPiece" or post is not None:
        tok._prefix, tok._suffix = _template(post, where)
        tok._post_processor = post
    tok._rebuild()
    for t in tok._prefix + tok._suffix:
        if tok.token_to_id(t) is None:
            raise _bad(where, f"the post_processor's special token {t!r} is not in the vocabulary")
    trunc = data.get("truncation")
    tok.max_length = trunc.get("max_length") if isinstance(trunc, dict) else None
    pad = data.get("padding")
    tok.pad_token = None
    if isinstance(pad, dict):
        strategy = pad.get("strategy")
        tok.padding = "longest" if strategy == "BatchLongest" else "max_length"
        if isinstance(strategy, dict) and "Fixed" in strategy and tok.max_length is None:
            tok.max_length = strategy["Fixed"]
        tok.pad_token = pad.get("pad_token")
    if tok.pad_token is None:
        for cand in ("[PAD]", "<pad>"):
            if tok.token_to_id(cand) is not None:
                tok.pad_token = cand
                break
    if isinstance(tok, WordPieceTokenizer):
        dec = data.get("decoder") or {}
        tok._cleanup = bool(dec.get("cleanup", True))


def to_json(tok) -> dict:
    r"""The tokenizer as a ``tokenizer.json`` object."""
    trunc = None
    if tok.max_length is not None:
        trunc = {"direction": "Right", "max_length": tok.max_length, "strategy": "LongestFirst", "stride": 0}
    pad = None
    if tok.padding and tok.pad_token is not None:
        strategy = {"Fixed": tok.max_length} if tok.padding == "max_length" and tok.max_length else "BatchLongest"
        pad = {"strategy": strategy, "direction": "Right", "pad_to_multiple_of": None,
               "pad_id": tok.token_to_id(tok.pad_token), "pad_type_id": 0, "pad_token": tok.pad_token}
    out = {"version": "1.0", "truncation": trunc, "padding": pad,
           "added_tokens": sorted((dict(a) for a in tok._added), key=lambda a: a["id"])}
    if isinstance(tok, BPETokenizer):
        byte_level = {"type": "ByteLevel", "add_prefix_space": tok.add_prefix_space, "trim_offsets": True,
                      "use_regex": tok.use_regex}
        out["normalizer"] = None
        out["pre_tokenizer"] = byte_level
        out["post_processor"] = tok._post_processor or dict(byte_level, trim_offsets=tok.trim_offsets)
        out["decoder"] = dict(byte_level)
        out["model"] = {"type": "BPE", "dropout": None, "unk_token": tok.unk_token, "continuing_subword_prefix": None,
                        "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                        "ignore_merges": tok.ignore_merges, "vocab": dict(tok._vocab),
                        "merges": [list(m) for m in tok.merges]}
    else:
        out["normalizer"] = tok.normalizer.to_json()
        out["pre_tokenizer"] = {"type": tok.pre_tokenizer_type}
        out["post_processor"] = tok._post_processor
        out["decoder"] = {"type": "WordPiece", "prefix": tok.continuing_subword_prefix,
                          "cleanup": getattr(tok, "_cleanup", True)}
        out["model"] = {"type": "WordPiece", "unk_token": tok.unk_token,
                        "continuing_subword_prefix": tok.continuing_subword_prefix,
                        "max_input_chars_per_word": tok.max_input_chars_per_word, "vocab": dict(tok._vocab)}
    return out
