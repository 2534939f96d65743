"""Pretrained word vectors (torchtext.vocab's ``Vectors``, ``GloVe``, ``FastText``, ``CharNGram``).

The text formats are read as torchtext reads them (``word v1 v2 ...`` per line, a one-field header line is
skipped, plain or ``.gz``, downloaded ``.zip``/``.tar.gz`` archives are extracted); the parsed table is
cached next to the text file in ember's own format (no pickle).
"""

from __future__ import annotations

import gzip
import logging
import os
from functools import partial

import numpy as np

import ember
from ember.hub import download_url_to_file
from ember.utils.archive import extract_archive

__all__ = ["Vectors", "GloVe", "FastText", "CharNGram", "pretrained_aliases"]

logger = logging.getLogger(__name__)


def _zero_(t):
    return t.zero_()


_CHUNK = 50000  # lines parsed per NumPy call


def _parse_rows(rows, dim, path):
    try:
        values = np.array(b" ".join(rows).split(), dtype=np.float32)
    except ValueError as e:
        raise RuntimeError(f"{path} holds a value that is not a number: {e}") from None
    if values.size != len(rows) * dim:  # e.g. two spaces in a row counted as an empty field
        raise RuntimeError(f"{path}: expected {len(rows)} x {dim} numbers, found {values.size}")
    return values.reshape(len(rows), dim)


def _read_table(path: str, max_vectors):
    """(itos, float32 array (n, dim), dim) from a text vector file, read line by line."""
    opener = gzip.open if path.endswith(".gz") else open
    itos, rows, blocks, dim = [], [], [], None
    try:
        with opener(path, "rb") as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip()
                if not line:
                    continue
                entries = line.split(b" ")  # only " ": a non-breaking space can be part of a token
                word, entries = entries[0], entries[1:]
                if dim is None and len(entries) > 1:
                    dim = len(entries)
                elif len(entries) == 1:
                    logger.warning("Skipping token %r with 1-dimensional vector %r; likely a header", word, entries)
                    continue
                elif dim != len(entries):
                    raise RuntimeError(
                        f"Vector for token {word!r} (line {n} of {path}) has {len(entries)} dimensions, but "
                        f"previously read vectors have {dim} dimensions. All vectors must have the same number of "
                        "dimensions."
                    )
                try:
                    word = word.decode("utf-8")
                except UnicodeDecodeError:
                    logger.info("Skipping non-UTF8 token %r", word)
                    continue
                itos.append(word)
                rows.append(line[line.index(b" ") + 1:])
                if len(rows) == _CHUNK:
                    blocks.append(_parse_rows(rows, dim, path))
                    rows = []
                if max_vectors and len(itos) == max_vectors:
                    break
    except (OSError, EOFError) as e:
        raise RuntimeError(f"could not read vectors from {path}: {e}") from e
    if dim is None:
        raise RuntimeError(f"no vectors found in {path} (expected lines 'token v1 v2 ...')")
    if rows:
        blocks.append(_parse_rows(rows, dim, path))
    return itos, np.concatenate(blocks), dim


class Vectors:
    r"""A table of pretrained vectors, one per token.

    Args:
        name: the vector file (a path, or a file name inside ``cache``).
        cache: folder for downloaded and cached files. Default: ``".vector_cache"``.
        url: where to download ``name`` from when it is not in ``cache`` (a ``.zip``/``.tar.gz`` archive is
            extracted into ``cache``).
        unk_init: called on a zero tensor of size ``dim`` to make the vector of an unknown token.
            Default: leave it zero.
        max_vectors: read only the first ``max_vectors`` vectors of the file.

    Attributes: ``itos`` (tokens), ``stoi`` (token -> row), ``vectors`` (``(n, dim)`` float tensor), ``dim``.
    """

    def __init__(self, name, cache=None, url=None, unk_init=None, max_vectors=None) -> None:
        cache = ".vector_cache" if cache is None else cache
        self.itos = None
        self.stoi = None
        self.vectors = None
        self.dim = None
        self.unk_init = _zero_ if unk_init is None else unk_init
        self.cache(name, cache, url=url, max_vectors=max_vectors)

    def __getitem__(self, token):
        i = self.stoi.get(token)
        if i is not None:
            return self.vectors[i]
        return self.unk_init(ember.zeros(self.dim))

    def __contains__(self, token) -> bool:
        return token in self.stoi

    def __len__(self) -> int:
        return len(self.vectors)

    def cache(self, name, cache, url=None, max_vectors=None) -> None:
        r"""Load the vectors, downloading / parsing / caching them as needed."""
        name, cache = os.fspath(name), os.fspath(cache)
        suffix = f"_{max_vectors}.pt" if max_vectors else ".pt"
        if os.path.isfile(name):
            path = name
            path_pt = os.path.join(cache, os.path.basename(name)) + suffix
        else:
            path = os.path.join(cache, name)
            path_pt = path + suffix
        if os.path.isfile(path_pt) and self._load_cached(path_pt):
            return
        if not os.path.isfile(path) and url:
            os.makedirs(cache, exist_ok=True)
            dest = os.path.join(cache, os.path.basename(url))
            if not os.path.isfile(dest):
                logger.info("Downloading vectors from %s", url)
                download_url_to_file(url, dest, progress=True)
            if dest.endswith((".zip", ".tar.gz", ".tgz", ".tar")):
                logger.info("Extracting vectors into %s", cache)
                extract_archive(dest, cache)
        if not os.path.isfile(path):
            raise RuntimeError(f"no vectors found at {path}" + (f" (downloaded from {url})" if url else
                                                               " (and no url to download them from)"))
        logger.info("Loading vectors from %s", path)
        itos, table, dim = _read_table(path, max_vectors)
        self.itos = itos
        self.stoi = {w: i for i, w in enumerate(itos)}
        self.vectors = ember.from_numpy(table)
        self.dim = dim
        os.makedirs(cache, exist_ok=True)
        ember.save({"itos": self.itos, "vectors": self.vectors, "dim": self.dim}, path_pt)

    def _load_cached(self, path_pt) -> bool:
        try:
            state = ember.load(path_pt)
            itos, vectors, dim = state["itos"], state["vectors"], state["dim"]
        except Exception as e:  # e.g. a torchtext pickle cache: parse the text file again
            logger.warning("Ignoring the vector cache %s (%s); reading the text file again", path_pt, e)
            return False
        self.itos, self.vectors, self.dim = list(itos), vectors, int(dim)
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        return True

    def get_vecs_by_tokens(self, tokens, lower_case_backup: bool = False):
        r"""Vectors of ``tokens``: a ``(dim,)`` tensor for one token (a ``str``), ``(len(tokens), dim)`` for a
        list. With ``lower_case_backup``, a token not found is looked up again lower-cased."""
        single = not isinstance(tokens, list)
        if single:
            tokens = [tokens]
        if lower_case_backup:
            tokens = [t if t in self.stoi else t.lower() for t in tokens]
        rows = [self.stoi.get(t, -1) for t in tokens]
        if all(r >= 0 for r in rows):  # all known: one gather
            vecs = self.vectors[ember.tensor(rows, dtype=ember.long)] if rows else ember.zeros(0, self.dim)
        else:
            vecs = ember.stack([self[t] for t in tokens])
        return vecs[0] if single else vecs


class GloVe(Vectors):
    r"""GloVe vectors (``name`` one of ``"42B"``, ``"840B"``, ``"twitter.27B"``, ``"6B"``; ``dim`` as published)."""

    url = {
        "42B": "http://nlp.stanford.edu/data/glove.42B.300d.zip",
        "840B": "http://nlp.stanford.edu/data/glove.840B.300d.zip",
        "twitter.27B": "http://nlp.stanford.edu/data/glove.twitter.27B.zip",
        "6B": "http://nlp.stanford.edu/data/glove.6B.zip",
    }

    def __init__(self, name="840B", dim=300, **kwargs) -> None:
        if name not in self.url:
            raise ValueError(f"unknown GloVe set {name!r}; choose one of {sorted(self.url)}")
        url = self.url[name]
        super().__init__(f"glove.{name}.{dim}d.txt", url=url, **kwargs)


class FastText(Vectors):
    r"""fastText Wikipedia vectors for ``language`` (``wiki.<language>.vec``)."""

    url_base = "https://dl.fbaipublicfiles.com/fasttext/vectors-wiki/wiki.{}.vec"

    def __init__(self, language="en", **kwargs) -> None:
        url = self.url_base.format(language)
        super().__init__(os.path.basename(url), url=url, **kwargs)


class CharNGram(Vectors):
    r"""Character n-gram vectors (Hashimoto et al.): a token's vector is the mean of its 2-, 3- and 4-gram
    vectors (with ``#BEGIN#``/``#END#`` markers); a token with none of them gets ``unk_init``."""

    name = "charNgram.txt"
    url = "http://www.logos.t.u-tokyo.ac.jp/~hassy/publications/arxiv2016jmt/jmt_pre-trained_embeddings.tar.gz"

    def __init__(self, **kwargs) -> None:
        super().__init__(self.name, url=self.url, **kwargs)

    def __getitem__(self, token):
        vector = ember.zeros(1, self.dim)
        if token == "<unk>":
            return self.unk_init(vector)
        chars = ["#BEGIN#"] + list(token) + ["#END#"]
        rows = []
        for n in (2, 3, 4):
            for i in range(len(chars) - n + 1):
                r = self.stoi.get(f"{n}gram-{''.join(chars[i:i + n])}")
                if r is not None:
                    rows.append(r)
        if not rows:
            return self.unk_init(vector)
        return self.vectors[ember.tensor(rows, dtype=ember.long)].mean(0, keepdim=True)


pretrained_aliases = {
    "charngram.100d": partial(CharNGram),
    "fasttext.en.300d": partial(FastText, language="en"),
    "fasttext.simple.300d": partial(FastText, language="simple"),
    "glove.42B.300d": partial(GloVe, name="42B", dim="300"),
    "glove.840B.300d": partial(GloVe, name="840B", dim="300"),
    "glove.twitter.27B.25d": partial(GloVe, name="twitter.27B", dim="25"),
    "glove.twitter.27B.50d": partial(GloVe, name="twitter.27B", dim="50"),
    "glove.twitter.27B.100d": partial(GloVe, name="twitter.27B", dim="100"),
    "glove.twitter.27B.200d": partial(GloVe, name="twitter.27B", dim="200"),
    "glove.6B.50d": partial(GloVe, name="6B", dim="50"),
    "glove.6B.100d": partial(GloVe, name="6B", dim="100"),
    "glove.6B.200d": partial(GloVe, name="6B", dim="200"),
    "glove.6B.300d": partial(GloVe, name="6B", dim="300"),
}
