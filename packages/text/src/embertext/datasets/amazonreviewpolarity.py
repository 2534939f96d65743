"""Amazon reviews (title and text) with polarity labels (Zhang et al. 2015), torchtext's ``AmazonReviewPolarity``."""

from __future__ import annotations

import os

from ._parsers import csv_label_text
from ._utils import TextFileDataset, fetch_archive, wrap_split

URL = "https://drive.google.com/uc?export=download&id=0Bz8a_Dbh9QhbaW12WVVZS2drcnM"
MD5 = "fe39f8b653cada45afd5792e0f0e8f9b"
NUM_LINES = {"train": 3600000, "test": 400000}
_PATH = "amazon_review_polarity_csv.tar.gz"
DATASET_NAME = "AmazonReviewPolarity"
_EXTRACTED_FILES = {split: os.path.join("amazon_review_polarity_csv", f"{split}.csv") for split in ("train", "test")}
LABELS = ("negative", "positive")


@wrap_split(("train", "test"), DATASET_NAME)
def AmazonReviewPolarity(root, split):
    """AmazonReviewPolarity: Amazon reviews (title and text) labelled 1 (negative) or 2 (positive).

    Files: ``<root>/datasets/AmazonReviewPolarity/amazon_review_polarity_csv.tar.gz`` (downloaded when missing, MD5-checked)
    extracted to ``<root>/datasets/AmazonReviewPolarity/amazon_review_polarity_csv/{train,test}.csv``. Lines per split: train
    3600000, test 400000. Iterating streams the CSV from disk; indexing loads it into memory.

    Returns:
        a dataset (or a tuple of them) yielding ``(label, text)``.
    """
    path = os.path.join(root, _EXTRACTED_FILES[split])
    fetch_archive(URL, os.path.join(root, _PATH), [path], md5=MD5)
    return TextFileDataset(DATASET_NAME, split, path, csv_label_text)
