"""SST-2 (GLUE's binary Stanford Sentiment Treebank), torchtext's ``SST2``."""

from __future__ import annotations

import csv
import functools
import os

from ._utils import TextFileDataset, fetch_archive, wrap_split

URL = "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip"
MD5 = "9f81648d4199384278b86e315dac217c"
NUM_LINES = {"train": 67349, "dev": 872, "test": 1821}
_PATH = "SST-2.zip"
DATASET_NAME = "SST2"
_EXTRACTED_FILES = {split: os.path.join("SST-2", f"{split}.tsv") for split in ("train", "dev", "test")}
LABELS = ("negative", "positive")


def _parse(path: str, test: bool):
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t")
        next(rows, None)  # GLUE header: "sentence\tlabel" (train/dev) or "index\tsentence" (test)
        for row in rows:
            if test:
                yield (row[1].strip(),)
            else:
                yield row[0].strip(), int(row[1])


@wrap_split(("train", "dev", "test"), DATASET_NAME)
def SST2(root, split):
    """SST-2 (Socher et al. 2013, as packaged by GLUE): movie-review sentences labelled 0 (negative) or 1
    (positive).

    Files: ``<root>/datasets/SST2/SST-2.zip`` (downloaded when missing, MD5-checked) extracted to
    ``<root>/datasets/SST2/SST-2/{train,dev,test}.tsv``. Lines per split: train 67349, dev 872, test 1821.

    Args:
        root: directory where the datasets are saved. Default: ``.data``
        split: split or splits to be returned, a string or a tuple of strings. Default: ``("train", "dev", "test")``

    Returns:
        a dataset (or a tuple of them) yielding ``(text, label)``; the test split yields ``(text,)``.
    """
    path = os.path.join(root, _EXTRACTED_FILES[split])
    fetch_archive(URL, os.path.join(root, _PATH), [path], md5=MD5)
    return TextFileDataset(DATASET_NAME, split, path, functools.partial(_parse, test=split == "test"))
