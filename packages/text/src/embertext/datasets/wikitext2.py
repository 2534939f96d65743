"""WikiText-2 (Merity et al. 2016), torchtext's ``WikiText2``."""

from __future__ import annotations

import functools
import os

from ._parsers import lines
from ._utils import TextFileDataset, fetch_archive, wrap_split

URL = "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip"
MD5 = "542ccefacc6c27f945fb54453812b3cd"
NUM_LINES = {"train": 36718, "valid": 3760, "test": 4358}
DATASET_NAME = "WikiText2"
_EXTRACTED_FILES = {split: os.path.join("wikitext-2", f"wiki.{split}.tokens") for split in ("train", "valid", "test")}


@wrap_split(("train", "valid", "test"), DATASET_NAME)
def WikiText2(root, split):
    """WikiText-2: tokenized Wikipedia articles for language modelling.

    Files: ``<root>/datasets/WikiText2/wikitext-2-v1.zip`` (downloaded when missing, MD5-checked)
    extracted to ``<root>/datasets/WikiText2/wikitext-2/wiki.{train,valid,test}.tokens``.
    Lines per split: train 36718, valid 3760, test 4358.

    Returns:
        a dataset (or a tuple of them) yielding each line as a string, newline kept (as torchtext).
    """
    path = os.path.join(root, _EXTRACTED_FILES[split])
    fetch_archive(URL, os.path.join(root, os.path.basename(URL)), [path], md5=MD5)
    return TextFileDataset(DATASET_NAME, split, path, functools.partial(lines, strip=False, keep_newline=True))
