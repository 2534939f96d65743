"""The Large Movie Review Dataset (Maas et al. 2011), torchtext's ``IMDB``."""

from __future__ import annotations

import os
import re

from ._utils import TextFileDataset, fetch_archive, wrap_split

URL = "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
MD5 = "7c2ac02c03563afcf9b574c7e56c153a"
NUM_LINES = {"train": 25000, "test": 25000}
MAP_LABELS = {"neg": 1, "pos": 2}
_PATH = "aclImdb_v1.tar.gz"
DATASET_NAME = "IMDB"
LABELS = ("neg", "pos")


def _review_key(name: str):
    match = re.match(r"(\d+)_", name)
    return (int(match.group(1)) if match else -1, name)


def _parse(folder: str):
    """One ``(label, review)`` per ``.txt`` file in ``folder`` (``.../neg`` or ``.../pos``)."""
    label = MAP_LABELS[os.path.basename(folder)]
    for name in sorted((n for n in os.listdir(folder) if n.endswith(".txt")), key=_review_key):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            yield label, " ".join(line.strip() for line in f if line.strip())


@wrap_split(("train", "test"), DATASET_NAME)
def IMDB(root, split):
    """IMDB: 50,000 movie reviews labelled 1 (negative) or 2 (positive).

    Files: ``<root>/datasets/IMDB/aclImdb_v1.tar.gz`` (downloaded when missing, MD5-checked) extracted to
    ``<root>/datasets/IMDB/aclImdb/{train,test}/{neg,pos}/<id>_<rating>.txt``. Reviews per split: 25000.

    Returns:
        a dataset (or a tuple of them) yielding ``(label, text)``: the negative reviews first, then the
        positive ones, each in file-id order.
    """
    folders = [os.path.join(root, "aclImdb", split, label) for label in MAP_LABELS]
    fetch_archive(URL, os.path.join(root, _PATH), folders, md5=MD5)
    return TextFileDataset(DATASET_NAME, split, folders, _parse)
