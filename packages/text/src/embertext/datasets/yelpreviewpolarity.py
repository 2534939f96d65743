"""Yelp reviews with polarity labels (Zhang et al. 2015), torchtext's ``YelpReviewPolarity``."""

from __future__ import annotations

import os

from ._parsers import csv_label_text
from ._utils import TextFileDataset, fetch_archive, wrap_split

URL = "https://drive.google.com/uc?export=download&id=0Bz8a_Dbh9QhbNUpYQ2N3SGlFaDg"
MD5 = "620c8ae4bd5a150b730f1ba9a7c6a4d3"
NUM_LINES = {"train": 560000, "test": 38000}
_PATH = "yelp_review_polarity_csv.tar.gz"
DATASET_NAME = "YelpReviewPolarity"
_EXTRACTED_FILES = {split: os.path.join("yelp_review_polarity_csv", f"{split}.csv") for split in ("train", "test")}
LABELS = ("negative", "positive")


@wrap_split(("train", "test"), DATASET_NAME)
def YelpReviewPolarity(root, split):
    """YelpReviewPolarity: Yelp reviews labelled 1 (negative) or 2 (positive).

    Files: ``<root>/datasets/YelpReviewPolarity/yelp_review_polarity_csv.tar.gz`` (downloaded when missing, MD5-checked)
    extracted to ``<root>/datasets/YelpReviewPolarity/yelp_review_polarity_csv/{train,test}.csv``. Lines per split: train
    560000, test 38000. Iterating streams the CSV from disk; indexing loads it into memory.

    Returns:
        a dataset (or a tuple of them) yielding ``(label, text)``.
    """
    path = os.path.join(root, _EXTRACTED_FILES[split])
    fetch_archive(URL, os.path.join(root, _PATH), [path], md5=MD5)
    return TextFileDataset(DATASET_NAME, split, path, csv_label_text)
