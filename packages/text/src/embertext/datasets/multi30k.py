"""Multi30k English-German captions (Elliott et al. 2016, WMT16 task 1), torchtext's ``Multi30k``."""

from __future__ import annotations

import functools
import os

from ._parsers import lines
from ._utils import TextFileDataset, fetch_archive, wrap_split

URL = {
    "train": "https://raw.githubusercontent.com/neychev/small_DL_repo/master/datasets/Multi30k/training.tar.gz",
    "valid": "https://raw.githubusercontent.com/neychev/small_DL_repo/master/datasets/Multi30k/validation.tar.gz",
    "test": "https://raw.githubusercontent.com/neychev/small_DL_repo/master/datasets/Multi30k/mmt16_task1_test.tar.gz",
}
# torchtext keeps these SHA-256 digests in a table named MD5
MD5 = {
    "train": "20140d013d05dd9a72dfde46478663ba05737ce983f478f960c1123c6671be5e",
    "valid": "a7aa20e9ebd5ba5adce7909498b94410996040857154dab029851af3a866da8c",
    "test": "6d1ca1dba99e2c5dd54cae1226ff11c2551e6ce63527ebb072a1f70f72a5cd36",
}
_PREFIX = {"train": "train", "valid": "val", "test": "test"}
NUM_LINES = {"train": 29000, "valid": 1014, "test": 1000}
DATASET_NAME = "Multi30k"


def _pairs(paths):
    src, tgt = paths
    yield from zip(lines(src, strip=False), lines(tgt, strip=False))


class _PairDataset(TextFileDataset):
    def _stream(self):
        return _pairs(self.paths)


@wrap_split(("train", "valid", "test"), DATASET_NAME)
def Multi30k(root, split, language_pair=("de", "en")):
    """Multi30k: image captions in German and English, aligned line by line.

    Files: ``<root>/datasets/Multi30k/{training,validation,mmt16_task1_test}.tar.gz`` (downloaded when
    missing, SHA-256-checked) extracted to ``<root>/datasets/Multi30k/{train,val,test}.{de,en}``.
    Lines per split: train 29000, valid 1014, test 1000.

    Args:
        language_pair: ``("de", "en")`` or ``("en", "de")``: the (source, target) order. Default: ``("de", "en")``

    Returns:
        a dataset (or a tuple of them) yielding ``(source sentence, target sentence)``, newlines stripped.
    """
    if len(language_pair) != 2:
        raise AssertionError("language_pair must contain only 2 elements: src and tgt language respectively")
    if tuple(sorted(language_pair)) != ("de", "en"):
        raise AssertionError("language_pair must be either ('de','en') or ('en', 'de')")
    paths = [os.path.join(root, f"{_PREFIX[split]}.{lang}") for lang in language_pair]
    fetch_archive(URL[split], os.path.join(root, os.path.basename(URL[split])), paths, sha256=MD5[split])
    return _PairDataset(DATASET_NAME, split, paths, functools.partial(lines, strip=False))
